/**
 * The fault table of a rehearsal report, for the terminal summary and the HTML report: per fault what
 * was injected, then how the system answered, the invariant verdicts under the faults, and what the run
 * could not judge. The JSON report carries the same `FaultReport` as is.
 */
import type { StreamGapOutcome } from './trim-operator';
import Table from 'cli-table3';
import type { FaultAnswers, FaultReport } from './rehearsal';

const entries = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, n]) => `${k}: ${n}`)
    .join('; ') || 'none';

/** The answers as (label, value) rows. */
export function answerRows(a: FaultAnswers): Array<[string, string]> {
  const surfaced = Object.fromEntries(Object.entries(a.byRole).map(([role, c]) => [role, c.surfaced]));
  return [
    ['SDK retries', String(a.sdkRetries)],
    ['errors past the SDK retries, by role', entries(surfaced)],
    ['dead-letter entries (reasons)', `${a.deadLetters} (${entries(a.deadLetterReasons)})`],
    [
      'replayed / still dead-lettered / failed replays',
      `${a.replayed} / ${a.stillDeadLettered} / ${a.replayFailures}`,
    ],
    ['breaker openings', String(a.breakerOpenings)],
    ['reads that fell back to legacy', String(a.fallbacksToLegacy)],
    ['reads routed around new (breaker open)', String(a.routedAroundNew)],
    ['store failures seen by the read API', entries(a.readStoreFailures)],
    [
      'reads answered 5xx',
      String(a.readErrors) +
        a.readErrorSamples
          .map(
            (r) =>
              ` (${(r.atMs / 1000).toFixed(1)} s ${r.op} ${r.mode}${r.surface ? ` ${r.surface}` : ''} → ${r.route}` +
              ` ${r.reason} ${r.status}${r.lastStoreFailure ? `; last store failure ${r.lastStoreFailure}` : ''})`,
          )
          .join(''),
    ],
    ['frontier tracker / CDC poller errors (retried)', `${a.trackerErrors} / ${a.pollerErrors}`],
    [
      'processes killed / restarted',
      a.processes
        .map(
          (p) =>
            `${p.process} ${p.kills} / ${p.restarts}` +
            (p.events.length
              ? ` (at ${p.events.map((e) => `${(e.atMs / 1000).toFixed(1)} s ${e.call}`).join(', ')})`
              : ''),
        )
        .join('; ') || 'none',
    ],
    [
      'runs resumed after a kill (checkpoints at the kill → restart)',
      a.resumes
        .map(
          (r) =>
            `${r.process}: ${r.resumedWhereStopped ? 'resumed where it stopped' : `NOT where it stopped (${r.problems.join('; ')})`}; ` +
            `at the kill ${r.atKill.map((p) => `seg ${p.segment} ${p.done ? 'done' : `${p.scanned} scanned`}`).join(', ')}; ` +
            `restart scanned ${r.atResume.map((s) => `seg ${s.segment} from ${s.startKey === null ? 'its start' : 'its checkpoint'}`).join(', ') || 'nothing new'}`,
        )
        .join('; ') || 'none',
    ],
    ...(a.poison
      ? ([
          [
            'poison items (expected, not failures)',
            a.poison
              .map(
                (p) =>
                  `${p.key} (${p.when}): ${p.when === 'live' ? `dead-lettered: ${p.deadLettered ?? 'NOT SEEN'}` : `registered as poison: ${p.registered ?? 'NOT SEEN'}`}; ` +
                  `reads while in legacy: ${p.reads.legacy} from legacy, ${p.reads.new} from new, ${p.reads.other} other; ` +
                  (p.pinned
                    ? `${p.pinned}; while pinned ${p.pinnedReads?.legacy ?? 0} read(s) from legacy (${p.pinnedReads?.pinnedToLegacy ?? 0} PINNED_TO_LEGACY), ` +
                      `${p.pinnedReads?.new ?? 0} from new; ${(p.probes ?? []).map((x) => `${x.kind} ${x.servedBy ?? '?'} ${x.reason ?? ''}`.trim()).join(', ') || 'no probe'}; `
                    : '') +
                  `${p.ended ?? 'still in legacy'}`,
              )
              .join('; '),
          ],
        ] as Array<[string, string]>)
      : []),
    ...(a.clockSkew
      ? ([
          [
            "read API's clock skew",
            `${a.clockSkew.skewMs} ms, margin ${a.clockSkew.marginMs} ms: ${a.clockSkew.withinMargin ? 'within the margin' : 'BEYOND the margin (bounded guarantee void)'}`,
          ],
        ] as Array<[string, string]>)
      : []),
    ...(a.streamGap ? streamGapRows(a.streamGap) : []),
    [
      'outage windows',
      a.windows
        .map((w) => `${w.fault} at ${(w.openedAtMs / 1000).toFixed(1)} s for ${w.forMs} ms`)
        .join('; ') || 'none',
    ],
  ];
}

/** The fault table as terminal lines (cli-table3). */
export function faultTableText(
  f: FaultReport,
  mark: { ok: (s: string) => string; bad: (s: string) => string },
): string {
  const faults = new Table({ head: ['fault', 'injected', 'what'], style: { head: [], border: [] } });
  for (const row of f.faults) faults.push([row.name, row.injected, row.description]);
  const answers = new Table({ style: { head: [], border: [] } });
  for (const [k, v] of answerRows(f.answers)) answers.push({ [k]: v });
  const verdicts = Object.entries(f.verdicts)
    .map(([k, ok]) => `${k} ${ok ? mark.ok('passed') : mark.bad('FAILED')}`)
    .join(', ');
  return [
    `faults (rate ${f.rate}, seed ${f.seed})`,
    faults.toString(),
    'how the system answered',
    answers.toString(),
    `verdicts under these faults: ${verdicts}`,
    ...f.voided.map((v) => mark.bad(`not judged: ${v}`)),
  ].join('\n');
}

/** The fault table as an HTML section (`escape` escapes text). */
export function faultTableHtml(f: FaultReport, escape: (s: string) => string): string {
  const rows = f.faults
    .map((r) => `<tr><td>${escape(r.name)}</td><td>${r.injected}</td><td>${escape(r.description)}</td></tr>`)
    .join('');
  const answers = answerRows(f.answers)
    .map(([k, v]) => `<tr><td>${escape(k)}</td><td>${escape(v)}</td></tr>`)
    .join('');
  const verdicts = Object.entries(f.verdicts)
    .map(
      ([k, ok]) =>
        `<tr class="${ok ? 'ok' : 'bad'}"><td>${escape(k)}</td><td>${ok ? 'passed' : 'FAILED'}</td></tr>`,
    )
    .join('');
  const voided = f.voided.map((v) => `<li class="bad">not judged: ${escape(v)}</li>`).join('');
  return (
    `<h2>Faults (rate ${f.rate}, seed ${f.seed})</h2>` +
    `<table id="faults"><tr><th>fault</th><th>injected</th><th>what</th></tr>${rows}</table>` +
    `<h3>How the system answered</h3><table>${answers}</table>` +
    `<h3>Verdicts under these faults</h3><table>${verdicts}</table>${voided ? `<ul>${voided}</ul>` : ''}`
  );
}

/** `stream-trim`: the trim, the gap the tracker opened, the refused advance, the recovery. */
export function streamGapRows(g: StreamGapOutcome): Array<[string, string]> {
  const iso = (ms: number | undefined) => (ms === undefined ? 'NEVER' : new Date(ms).toISOString());
  const t = g.trim;
  return [
    [
      'stream trimmed',
      `consumer paused ${t.pauseMs} ms past a ${t.retentionMs} ms retention; ${t.recordsAtOrBefore} records at or before the horizon; answered trimmed ${t.trimmedAnswers}, expired ${t.expiredAnswers}, TRIM_HORIZON moved ${t.trimHorizonMoves}`,
    ],
    [
      'stream gap',
      `opened ${iso(g.opened?.openedAt)} (F frozen at ${iso(g.opened?.frozenAt)}); advance while open: ${g.advanceRefused === undefined ? 'not tried' : g.advanceRefused ? 'refused' : 'NOT HELD by the gap'}; closed ${iso(g.closedAt)}${g.closedByRun ? ` by ${g.closedByRun}` : ''}${g.failure ? ` — ${g.failure}` : ''}`,
    ],
    [
      'stream gap recovery',
      g.recoveryRuns
        .map((r) => `${r.runId} ${r.clean ? 'clean' : 'not clean'} (${r.repaired} repaired)`)
        .join('; ') || 'none',
    ],
  ];
}
