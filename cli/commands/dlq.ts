/**
 * `dualread dlq list|replay|waive|pin|retry-poison`: what did not reach the new table, and what to do
 * about it. Two kinds live here, because an operator asks one question ("what is missing from new, and
 * why?") and both hold `F` or the backfill back:
 *
 * - CDC dead letters: stream batches the sync function gave up on (the SQS dead-letter queue of the
 *   stack). `replay` re-reads each range from the stream and applies it through the sync handler
 *   (lambdas/sync/replay.ts); a message is deleted only when its replay is complete. `waive --sequence`
 *   waives one record that cannot be replayed (audited; its key becomes an unresolved key).
 * - Unresolved backfill keys (`BACKFILL_POISON#`): legacy items the backfill could not copy, and keys of
 *   waived records. `list` shows them with their reasons; `retry-poison` retries them after a fix;
 *   `waive --key` waives keys that need not be in new (audited). These run the `poison` function's
 *   handler in this process with the caller's credentials, locally and on AWS alike.
 *
 * - `pin` (a message id, `all`, or `--body-file`): replays the message; each record that fails again is
 *   waived for the frontier and its key pinned to legacy (audited): legacy keeps serving it, the
 *   migration goes on, FINALIZED waits for a remedy. The message is deleted only once every failed
 *   record's key is pinned.
 *
 * Local mode's dead-letter queue lives in the process that runs local CDC, so here `replay` takes a
 * message body from a file (`--body-file`, the message as `deadLetterMessage` or SQS gives it).
 *
 * Size (over 400 lines, on purpose): one command group, its subcommands registered in one place so
 * their options and help read together; what they run lives in adapters/ and lambdas/.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  type QueuedDeadLetter,
  deleteDeadLetter,
  makeSqsClient,
  peekDeadLetters,
  releaseDeadLetter,
  takeDeadLetters,
} from '../../adapters/dead-letters';
import { AlreadyWaivedError, waiveRecord } from '../../adapters/frontier-store';
import { makeStreamsClient } from '../../adapters/stream-shards';
import type { ReplayReport } from '../../core/cdc';
import type { JsonItem } from '../../core/model';
import { itemFromDynamoJson } from '../../core/model';
import { localBackfillDeps, runLocalPoisonOperation } from '../../local/backfill';
import type { PoisonPayload } from '../../core/backfill';
import { replayDeadLetter } from '../../lambdas/sync/replay';
import type { CliContext } from '../context';
import { TargetNotFoundError, UsageError } from '../errors';
import { ExitCode } from '../exit-codes';
import type { Output } from '../output';
import { type Target, pascal } from '../target';
import { numberArg } from './parse';

/** The stack's CDC dead-letter queue URL. @throws TargetNotFoundError */
function queueUrlOf(target: Target): string {
  const key = `${pascal(target.migration.id)}DeadLetterQueueUrl`;
  const url = target.outputs[key];
  if (!url)
    throw new TargetNotFoundError(
      `the stack has no output ${key}: migration "${target.migration.id}" has no CDC dead-letter queue deployed, or the stack predates it — redeploy it`,
    );
  return url;
}

/** Runs the backfill's `poison` function's handler in this process (list, retry, waive, pin). */
export function poison(target: Target, payload: PoisonPayload) {
  return runLocalPoisonOperation(
    localBackfillDeps({
      client: target.dynamo,
      migration: target.migration,
      controlTableName: target.controlTableName,
    }),
    payload,
  );
}

/** A key given as DynamoDB JSON on the command line. */
export function keyArg(value: string, previous: JsonItem[] = []): JsonItem[] {
  try {
    const key = JSON.parse(value) as JsonItem;
    itemFromDynamoJson(key, 'key');
    return [...previous, key];
  } catch (err) {
    throw new UsageError(
      `--key ${value} is not a key in DynamoDB JSON (${(err as Error).message}): pass e.g. '{"id":{"S":"o-7"}}'`,
    );
  }
}

/** A message body from `--body-file`. @throws UsageError naming the file */
function readBodyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --body-file ${file}: ${(err as Error).message}`);
  }
}

/** Local mode has no queue to take messages from. */
const LOCAL_QUEUE_USAGE =
  'local mode has no queue to take messages from (it lives in the process running local CDC): pass --body-file <file> with a message body';

/**
 * Handles taken messages one by one: deleted when `handle` says it is done, else handed back at once
 * (also when `handle` throws, which then ends the loop).
 */
async function settleMessages(
  sqs: ReturnType<typeof makeSqsClient>,
  url: string,
  messages: readonly QueuedDeadLetter[],
  handle: (m: QueuedDeadLetter) => Promise<boolean>,
): Promise<void> {
  for (const m of messages) {
    let done: boolean;
    try {
      done = await handle(m);
    } catch (err) {
      await releaseDeadLetter(sqs, url, m.receiptHandle);
      throw err;
    }
    if (done) await deleteDeadLetter(sqs, url, m.receiptHandle);
    else await releaseDeadLetter(sqs, url, m.receiptHandle);
  }
}

/** `retry` of the unresolved and pinned keys (`dlq retry-poison`, `backfill poison retry`). */
export function retryPoisonAction(context: CliContext) {
  return context.action(async (cmd: Command) => {
    const o = cmd.opts<{ reason?: string }>();
    const target = await context.resolve(cmd);
    const out = context.output(cmd);
    const r = await poison(target, {
      operation: 'retry',
      actor: target.actor,
      ...(o.reason ? { reason: o.reason } : {}),
    });
    out.result(
      { migrationId: target.migration.id, result: r },
      () =>
        `retried ${r.examined}: ${r.copied} copied, ${r.presentInNew} already in new, ${r.absentInLegacy} gone from legacy, ` +
        `${r.stillPoison} still failing; ${r.unresolvedCount} unresolved and ${r.pinnedCount} pinned left` +
        `${r.more ? ' (more: run it again)' : ''}; backfill ${r.status ?? '?'}`,
    );
    return r.unresolvedCount === 0 ? ExitCode.OK : ExitCode.NOT_CLEAN;
  });
}

function messageView(m: QueuedDeadLetter) {
  return {
    messageId: m.messageId,
    receiveCount: m.receiveCount,
    ...(m.sentAt ? { sentAt: new Date(m.sentAt).toISOString() } : {}),
    ...(m.deadLetter ? { deadLetter: m.deadLetter } : {}),
    ...(m.problem ? { problem: m.problem } : {}),
  };
}

function replayLine(r: ReplayReport, out: Output): string {
  const verdict = r.complete ? out.c.green('complete') : out.c.red(`${r.failed} failed`);
  const failed = r.records
    .filter((x) => x.result === 'failed')
    .map((x) => `\n    ${x.sequenceNumber}: ${x.reason ?? ''}`)
    .join('');
  return `  ${r.shardId} ${r.startSequenceNumber}..${r.endSequenceNumber}: ${r.applied} applied, ${r.skipped} skipped, ${verdict}${failed}`;
}

export function register(program: Command, context: CliContext): void {
  const group = program
    .command('dlq')
    .description('CDC dead letters and unresolved backfill keys: list, replay, waive (docs/runbook.md)');

  group
    .command('list')
    .description('dead-lettered CDC batches (AWS: peeked, left in the queue) and unresolved backfill keys')
    .option('--max <n>', 'most messages to show', numberArg(1, 1000, true), 100)
    .action(
      context.action(async (cmd: Command) => {
        const o = cmd.opts<{ max: number }>();
        const target = await context.resolve(cmd);
        const out = context.output(cmd);
        let messages: QueuedDeadLetter[] | null = null;
        if (target.mode === 'aws') {
          const sqs = makeSqsClient(target.region);
          try {
            messages = await peekDeadLetters(sqs, queueUrlOf(target), o.max);
          } finally {
            sqs.destroy();
          }
        }
        const keys = await poison(target, { operation: 'list' });
        out.result(
          {
            migrationId: target.migration.id,
            deadLetters: messages ? messages.map(messageView) : null,
            unresolvedKeys: { count: keys.unresolvedCount, keys: keys.unresolved },
            pinnedKeys: { count: keys.pinnedCount, keys: keys.pinnedKeys },
          },
          () => {
            const lines = [
              messages === null
                ? 'CDC dead letters: local mode keeps them in the process that runs local CDC (its report lists them); replay one with --body-file'
                : `CDC dead letters: ${messages.length === 0 ? out.c.green('none') : out.c.red(String(messages.length))}`,
            ];
            for (const m of messages ?? [])
              lines.push(
                m.deadLetter
                  ? `  ${m.messageId} ${m.deadLetter.condition ?? '?'}: ${m.deadLetter.batchSize} records of ${m.deadLetter.shardId} ` +
                      `${m.deadLetter.startSequenceNumber}..${m.deadLetter.endSequenceNumber}` +
                      `${m.deadLetter.approximateArrivalOfFirstRecord ? `, first written ${new Date(m.deadLetter.approximateArrivalOfFirstRecord).toISOString()}` : ''}`
                  : `  ${m.messageId} ${out.c.yellow('not an on-failure record')}: ${m.problem ?? ''}`,
              );
            lines.push(
              `unresolved backfill keys: ${keys.unresolvedCount === 0 ? out.c.green('none') : out.c.yellow(String(keys.unresolvedCount))}`,
            );
            for (const k of keys.unresolved)
              lines.push(`  ${JSON.stringify(k.key)} (${k.origin}): ${k.reason}`);
            if (keys.pinnedCount)
              lines.push(
                `keys pinned to legacy: ${out.c.yellow(String(keys.pinnedCount))} (served by legacy; FINALIZED refused until each is retried after a fix, removed from legacy, or waived)`,
              );
            for (const k of keys.pinnedKeys)
              lines.push(
                `  ${JSON.stringify(k.key)} (${k.origin}) pinned by ${k.pinnedBy ?? '?'}: ${k.pinReason}; ${k.reason}`,
              );
            return lines.join('\n');
          },
        );
      }),
    );

  group
    .command('replay')
    .description(
      'replay dead-lettered batches through the sync handler; complete ones are deleted (exit 6 if any record failed)',
    )
    .option('--body-file <file>', 'replay this one message body (the only way in local mode)')
    .option('--max <n>', 'AWS: most messages to take from the queue', numberArg(1, 1000, true), 10)
    .action(
      context.action(async (cmd: Command) => {
        const o = cmd.opts<{ bodyFile?: string; max: number }>();
        const target = await context.resolve(cmd);
        const out = context.output(cmd);
        const streams = makeStreamsClient(target.where);
        const replay = (message: string) =>
          replayDeadLetter({
            message,
            migration: target.migration,
            controlTableName: target.controlTableName,
            dynamo: target.dynamo,
            streams,
          });
        const reports: Array<ReplayReport & { messageId?: string; deleted?: boolean }> = [];
        try {
          if (o.bodyFile) {
            reports.push(await replay(readBodyFile(o.bodyFile)));
          } else {
            if (target.mode === 'local') throw new UsageError(LOCAL_QUEUE_USAGE);
            const url = queueUrlOf(target);
            const sqs = makeSqsClient(target.region);
            try {
              await settleMessages(sqs, url, await takeDeadLetters(sqs, url, o.max), async (m) => {
                const r = await replay(m.body);
                reports.push({ ...r, messageId: m.messageId, deleted: r.complete });
                return r.complete;
              });
            } finally {
              sqs.destroy();
            }
          }
        } finally {
          streams.destroy();
        }
        const complete = reports.every((r) => r.complete);
        out.result({ migrationId: target.migration.id, complete, reports }, () =>
          [
            `replayed ${reports.length} message(s)${complete ? '' : ': some records failed again (fix the reason, replay again, or waive them: docs/runbook.md "CDC dead letters")'}`,
            ...reports.map((r) => replayLine(r, out)),
          ].join('\n'),
        );
        return complete ? ExitCode.OK : ExitCode.NOT_CLEAN;
      }),
    );

  group
    .command('waive')
    .description(
      'waive a dead-lettered record (--sequence with its --key) or unresolved backfill keys (--key …), audited',
    )
    .option('--sequence <n>', 'the stream sequence number of a dead-lettered record that cannot be replayed')
    .option('--key <json>', 'a legacy key in DynamoDB JSON (repeatable for backfill keys)', keyArg)
    .option('--reason <text>', 'why (required; recorded in the audit log)')
    .action(
      context.action(async (cmd: Command) => {
        const o = cmd.opts<{ sequence?: string; key?: JsonItem[]; reason?: string }>();
        if (!o.reason?.trim()) throw new UsageError('waive needs --reason "<why>": it is audited');
        if (!o.key?.length) throw new UsageError("waive needs --key '<legacy key as DynamoDB JSON>'");
        const target = await context.resolve(cmd);
        const out = context.output(cmd);
        if (o.sequence !== undefined) {
          if (!/^\d{1,40}$/.test(o.sequence))
            throw new UsageError(
              `--sequence ${o.sequence} must be the record's sequence number (1-40 digits)`,
            );
          if (o.key.length !== 1)
            throw new UsageError('waive --sequence takes exactly one --key: the record’s key');
          const at = context.now();
          await waiveRecord(
            target.dynamo,
            target.controlTableName,
            target.migration.id,
            o.sequence,
            { actor: target.actor, reason: o.reason.trim(), at },
            itemFromDynamoJson(o.key[0] as JsonItem, 'key'),
          );
          out.result(
            { migrationId: target.migration.id, waived: 'record', sequenceNumber: o.sequence, key: o.key[0] },
            () =>
              `waived record ${o.sequence} (by ${target.actor}); its key is now unresolved: run \`dualread verify --repair\` or \`dualread dlq retry-poison\` to copy it from legacy`,
          );
          return;
        }
        const r = await poison(target, {
          operation: 'waive',
          actor: target.actor,
          reason: o.reason.trim(),
          keys: o.key,
        });
        out.result(
          { migrationId: target.migration.id, waived: 'keys', result: r },
          () =>
            `waived ${r.waived} key(s)${r.notFound ? `, ${r.notFound} not unresolved (nothing to waive)` : ''}; ${r.unresolvedCount} unresolved left; backfill ${r.status ?? '?'}`,
        );
      }),
    );

  group
    .command('pin')
    .description(
      'pin the keys of dead-lettered records that fail again to legacy (audited): each is waived for the frontier and its key served by legacy; a message is deleted once all its failed records are pinned',
    )
    .argument('[id]', "AWS: a message id from `dlq list`, or 'all' (local mode: use --body-file)")
    .option(
      '--body-file <file>',
      'pin the failing records of this one message body (the only way in local mode)',
    )
    .option('--reason <text>', 'why these keys stay on legacy for now (required; audited)')
    .option(
      '--max <n>',
      "AWS, with 'all': most messages to take from the queue",
      numberArg(1, 1000, true),
      10,
    )
    .action(
      context.action(async (cmd: Command, id: string | undefined) => {
        const o = cmd.opts<{ bodyFile?: string; reason?: string; max: number }>();
        if (!o.reason?.trim()) throw new UsageError('pin needs --reason "<why>": it is audited');
        const reason = o.reason.trim();
        if (o.bodyFile === undefined && id === undefined)
          throw new UsageError("pin needs a message id, 'all', or --body-file <file>");
        const target = await context.resolve(cmd);
        const out = context.output(cmd);
        const streams = makeStreamsClient(target.where);
        const pinned: Array<{
          messageId?: string;
          deleted: boolean;
          pinned: JsonItem[];
          applied: number;
          skipped: number;
        }> = [];
        /** Replays the message; pins the key of every record that fails again; true when all are pinned. */
        const pinMessage = async (body: string, messageId?: string): Promise<boolean> => {
          const r = await replayDeadLetter({
            message: body,
            migration: target.migration,
            controlTableName: target.controlTableName,
            dynamo: target.dynamo,
            streams,
          });
          const keys: JsonItem[] = [];
          for (const rec of r.records.filter((x) => x.result === 'failed')) {
            if (!rec.keys)
              throw new UsageError(
                `record ${rec.sequenceNumber} has no key to pin (${rec.reason ?? 'no reason'}): waive it with \`dlq waive --sequence\``,
              );
            try {
              await waiveRecord(
                target.dynamo,
                target.controlTableName,
                target.migration.id,
                rec.sequenceNumber,
                { actor: target.actor, reason: `pinned to legacy: ${reason}`, at: context.now() },
                itemFromDynamoJson(rec.keys, 'key'),
              );
            } catch (err) {
              if (!(err instanceof AlreadyWaivedError)) throw err;
            }
            keys.push(rec.keys);
          }
          let done = true;
          if (keys.length) {
            const p = await poison(target, { operation: 'pin', actor: target.actor, reason, keys });
            const still = new Set(p.unresolved.map((u) => JSON.stringify(u.key)));
            done = keys.every((k) => !still.has(JSON.stringify(k)));
          }
          pinned.push({
            ...(messageId ? { messageId } : {}),
            deleted: done,
            pinned: keys,
            applied: r.applied,
            skipped: r.skipped,
          });
          return done;
        };
        try {
          if (o.bodyFile !== undefined) {
            await pinMessage(readBodyFile(o.bodyFile));
          } else {
            if (target.mode === 'local') throw new UsageError(LOCAL_QUEUE_USAGE);
            const url = queueUrlOf(target);
            const sqs = makeSqsClient(target.region);
            try {
              const taken = await takeDeadLetters(sqs, url, id === 'all' ? o.max : 1000);
              const chosen = id === 'all' ? taken : taken.filter((m) => m.messageId === id);
              for (const m of taken)
                if (!chosen.includes(m)) await releaseDeadLetter(sqs, url, m.receiptHandle);
              if (id !== 'all' && chosen.length === 0)
                throw new UsageError(
                  `no dead-letter message ${id ?? ''} in the queue: see \`dualread dlq list\``,
                );
              await settleMessages(sqs, url, chosen, (m) => pinMessage(m.body, m.messageId));
            } finally {
              sqs.destroy();
            }
          }
        } finally {
          streams.destroy();
        }
        const complete = pinned.every((x) => x.deleted);
        out.result({ migrationId: target.migration.id, complete, messages: pinned }, () =>
          [
            `pinned to legacy the failing records' keys of ${pinned.length} message(s) (by ${target.actor})` +
              (complete
                ? ''
                : ': some keys could not be pinned (see `dualread dlq list`); their messages stay queued'),
            ...pinned.map(
              (x) =>
                `  ${x.messageId ?? 'message'}: ${x.applied} applied, ${x.skipped} skipped, ${x.pinned.length} pinned` +
                `${x.pinned.length ? ` (${x.pinned.map((k) => JSON.stringify(k)).join(', ')})` : ''}${x.deleted ? '' : ' — kept in the queue'}`,
            ),
            'pinned keys are served by legacy until a retry settles them; FINALIZED is refused while any is pinned',
          ].join('\n'),
        );
        return complete ? ExitCode.OK : ExitCode.NOT_CLEAN;
      }),
    );

  group
    .command('retry-poison')
    .description(
      'retry the unresolved and pinned backfill keys after a fix (each written only where new lacks it)',
    )
    .option('--reason <text>', 'why (recorded in the audit log)')
    .action(retryPoisonAction(context));
}
