/**
 * Progress of a running rehearsal. On a TTY: a bar per backfill segment and a status bar with the
 * phase, frontier lag and the read mix by store (cli-progress), with events logged above them. Not on
 * a TTY: plain timestamped lines, and a status line every few seconds.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';

/** What the rehearsal reports as it runs. */
export interface ProgressSnapshot {
  readonly phase: string;
  /** Items scanned per backfill segment, and whether it is done. */
  readonly segments: ReadonlyArray<{
    readonly segment: number;
    readonly scanned: number;
    readonly done: boolean;
  }>;
  /** Legacy items to backfill (the seed). */
  readonly items: number;
  readonly frontierLagMs: number | null;
  /** Reads so far by the store that answered. */
  readonly readsByStore: Readonly<Record<string, number>>;
  /** Reads so far by phase, then by store. */
  readonly readsByPhase?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/**
 * The status text of a snapshot (pure; the TTY status bar and the plain status line both show it):
 * phase, backfill scanned, frontier lag, and the read mix by store and by phase.
 */
export function describeStatus(p: ProgressSnapshot): string {
  const lag = p.frontierLagMs === null ? 'n/a' : `${(p.frontierLagMs / 1000).toFixed(1)} s`;
  const mix = (row: Readonly<Record<string, number>>): string =>
    Object.entries(row)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([store, n]) => `${store} ${n}`)
      .join(', ');
  const scanned = p.segments.reduce((s, x) => s + x.scanned, 0);
  const byPhase = Object.entries(p.readsByPhase ?? {})
    .map(([phase, row]) => `${phase}: ${mix(row)}`)
    .join('; ');
  return (
    `phase ${p.phase} · backfill ${scanned}/${p.items} scanned · frontier lag ${lag} · ` +
    `reads ${mix(p.readsByStore) || 'none'}${byPhase ? ` (${byPhase})` : ''}`
  );
}

/** Progress output to a stream. */
export class Progress {
  private readonly tty: boolean;
  private bars: MultiBar | undefined;
  private readonly segmentBars = new Map<number, SingleBar>();
  private status: SingleBar | undefined;
  private lastPlain = 0;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly now: () => number = Date.now,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  /** One event line (timestamped when not a TTY). */
  line(text: string): void {
    if (this.bars) this.bars.log(`${text}\n`);
    else this.out.write(`${new Date(this.now()).toISOString()} ${text}\n`);
  }

  /** The current state of the run. */
  update(p: ProgressSnapshot): void {
    const status = describeStatus(p);
    if (!this.tty) {
      if (this.now() - this.lastPlain < 5000) return;
      this.lastPlain = this.now();
      this.line(`status: ${status}`);
      return;
    }
    this.bars ??= new MultiBar(
      {
        format: ' {label} [{bar}] {value}/{total} {extra}',
        hideCursor: true,
        clearOnComplete: false,
        stream: this.out as NodeJS.WriteStream,
      },
      Presets.shades_classic,
    );
    const perSegment = Math.max(1, Math.ceil(p.items / Math.max(1, p.segments.length)));
    for (const s of p.segments) {
      let bar = this.segmentBars.get(s.segment);
      if (!bar) {
        bar = this.bars.create(perSegment, 0, { label: `segment ${s.segment}`.padEnd(10), extra: '' });
        this.segmentBars.set(s.segment, bar);
      }
      bar.setTotal(Math.max(perSegment, s.scanned));
      bar.update(s.done ? Math.max(perSegment, s.scanned) : s.scanned, { extra: s.done ? 'done' : '' });
    }
    this.status ??= this.bars.create(1, 0, { label: 'status    ', extra: '' });
    this.status.update(0, { extra: status });
  }

  stop(): void {
    this.bars?.stop();
    this.bars = undefined;
  }
}
