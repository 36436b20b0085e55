import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';

/** One measured figure beside the ceiling measured in the same run. */
export interface Figure {
  /** Stable key in results.json, e.g. `kv.write.plain`. */
  id: string;
  /** Row label, e.g. `GET /v1/sys/health`. */
  label: string;
  unit: 'req/s' | 'ops/s' | 'ms' | 'MB';
  value: number;
  /** `unit` only when it differs from the figure's (raw HSM ops/s beside req/s). */
  ceiling: { label: string; value: number; unit?: Figure['unit'] };
  /**
   * Fraction of the ceiling reached: value/ceiling for rates,
   * ceiling/value for latencies; 1.0 means "as fast as the ceiling".
   */
  ratio: number;
  /** Errors, percentiles, sample counts. */
  note?: string;
}

/** A figure the run could not measure, and why. */
export interface SkippedFigure {
  id: string;
  label: string;
  skipped: string;
}

export type Row = Figure | SkippedFigure;

export interface Section {
  title: string;
  rows: Row[];
}

export function rateFigure(id: string, label: string, unit: 'req/s' | 'ops/s', value: number, ceiling: Figure['ceiling'], note?: string): Figure {
  return { id, label, unit, value, ceiling, ratio: value / ceiling.value, note };
}

export function latencyFigure(id: string, label: string, valueMs: number, ceiling: Figure['ceiling'], note?: string): Figure {
  return { id, label, unit: 'ms', value: valueMs, ceiling, ratio: ceiling.value / valueMs, note };
}

/** A size (resident memory) beside a ceiling it should stay under: ratio ceiling/value, as for latencies. */
export function sizeFigure(id: string, label: string, valueMb: number, ceiling: Figure['ceiling'], note?: string): Figure {
  return { id, label, unit: 'MB', value: valueMb, ceiling, ratio: ceiling.value / valueMb, note };
}

/** `12,345 req/s` for rates, three significant digits for milliseconds and megabytes. */
export function formatValue(value: number, unit: Figure['unit']): string {
  if (unit === 'ms' || unit === 'MB') return `${value >= 100 ? Math.round(value) : value.toPrecision(3)} ${unit}`;
  return `${Math.round(value).toLocaleString('en-US')} ${unit}`;
}

const formatRatio = (ratio: number) => (ratio >= 0.01 ? `${ratio.toFixed(2)}x` : `${ratio.toPrecision(2)}x`);

/** Plain-text table, one section heading per figure group; also valid Markdown when `markdown` is set. */
export function formatTable(sections: Section[], markdown = false): string {
  const header = ['Measured', 'Tresor', 'Ceiling', 'Ceiling value', 'Ratio', 'Note'];
  const lines: string[][] = [];
  for (const section of sections) {
    lines.push([`**${section.title}**`, '', '', '', '', '']);
    for (const row of section.rows) {
      if ('skipped' in row) lines.push([row.label, 'skipped', '', '', '', row.skipped]);
      else {
        lines.push([
          row.label,
          formatValue(row.value, row.unit),
          row.ceiling.label,
          formatValue(row.ceiling.value, row.ceiling.unit ?? row.unit),
          formatRatio(row.ratio),
          row.note ?? '',
        ]);
      }
    }
  }
  if (markdown) {
    const md = (cells: string[]) => `| ${cells.join(' | ')} |`;
    return [md(header), md(header.map(() => '---')), ...lines.map(md)].join('\n');
  }
  const plain = lines.map((cells) => cells.map((c) => c.replaceAll('**', '')));
  const widths = header.map((h, i) => Math.max(h.length, ...plain.map((cells) => (cells[i]!.length > 60 ? 0 : cells[i]!.length))));
  const pad = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [pad(header), pad(widths.map((w) => '-'.repeat(w))), ...plain.map(pad)].join('\n');
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  softhsm: string;
  os: string;
}

export function machineInfo(): MachineInfo {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  let softhsm = 'unknown';
  try {
    softhsm = /^Version: (.+)$/m.exec(execFileSync('dpkg', ['-s', 'softhsm2'], { encoding: 'utf8' }))?.[1] ?? softhsm;
  } catch {
    // Not a Debian system, or SoftHSM2 installed another way.
  }
  return {
    cpus: os.availableParallelism(),
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    softhsm,
    os: `${os.type()} ${os.release()}`,
  };
}

/** Writes the whole run (settings, machine, every row) as pretty JSON. */
export interface ResultsDocument {
  date: string;
  machine: MachineInfo;
  settings: unknown;
  /** 1-minute load averages at the start and end: other work on the machine skews every figure. */
  loadAverage: { start: number; end: number };
  sections: Section[];
}

export function writeResults(file: string, doc: ResultsDocument): void {
  fs.writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
}
