/** Prints bench/results.json as the Markdown table used in docs/PERFORMANCE.md: `node --import tsx bench/markdown.ts`. */
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatTable, type ResultsDocument } from './report.ts';

const file = fileURLToPath(new URL('./results.json', import.meta.url));
const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as ResultsDocument;
process.stdout.write(`Run of ${doc.date}, load average ${doc.loadAverage.start.toFixed(2)} → ${doc.loadAverage.end.toFixed(2)}\n\n${formatTable(doc.sections, true)}\n`);
