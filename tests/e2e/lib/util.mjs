// Small helpers shared by the test files: CSV parsing, downloads, tshark.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { WORK } from './backend.mjs';

// RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF) -> rows of cells.
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (c === '"') {
        quoted = false;
        i++;
        continue;
      }
      cell += c;
      i++;
      continue;
    }
    if (c === '"' && cell === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(cell);
      cell = '';
      i++;
    } else if (c === '\r' || c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      cell += c;
      i++;
    }
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

let downloads = 0;
// Clicks `selector` and saves the download it starts; -> {path, name}.
export async function download(page, selector) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 20000 }), page.click(selector)]);
  const failure = await dl.failure();
  if (failure)
    throw new Error(`download from ${selector} failed: ${failure}`);
  const path = join(WORK, `download-${process.pid}-${++downloads}-${dl.suggestedFilename()}`);
  await dl.saveAs(path);
  return { path, name: dl.suggestedFilename(), url: dl.url() };
}

// tshark -n over a file, stdin closed: one array of field values per frame.
export function tsharkFields(path, fields) {
  const args = ['-n', '-r', path, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f'];
  for (const f of fields)
    args.push('-e', f);
  const out = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000 });
  return out.split('\n').filter(Boolean).map((l) => l.split('\t'));
}
