import { MAX_ITERATIONS_PER_ROUND, MAX_ROUNDS_PER_EXECUTION } from '../../../core/backfill';
import { type AslMachine, type AslState, withInlineMaps } from '../../../stepfunctions/asl';
import { backfillDefinition } from '../../../stepfunctions/backfill';

/** Events a state writes to a Standard execution's history on one visit (AWS history event types). */
function eventsOf(state: AslState): number {
  switch (state.Type) {
    case 'Task':
      return 5; // TaskStateEntered, TaskScheduled, TaskStarted, TaskSucceeded, TaskStateExited
    case 'Map':
      return 4; // MapStateEntered, MapRunStarted, MapRunSucceeded, MapStateExited (children have their own history)
    default:
      return 2; // <Type>StateEntered, <Type>StateExited
  }
}

/** The targets a state may go to next. */
function successors(state: AslState): string[] {
  const out: string[] = [];
  if ('Next' in state && state.Next) out.push(state.Next);
  if (state.Type === 'Choice') {
    for (const c of state.Choices) if (c.Next) out.push(c.Next);
    if (state.Default) out.push(state.Default);
  }
  return out;
}

/** Events of a path, checking that each step is a real transition of the machine. */
function pathEvents(machine: AslMachine, path: string[]): number {
  return path.reduce((sum, name, i) => {
    const state = machine.States[name];
    if (!state) throw new Error(`no state ${name}`);
    const next = path[i + 1];
    if (next !== undefined && !successors(state).includes(next))
      throw new Error(`${name} does not go to ${next}`);
    return sum + eventsOf(state);
  }, 0);
}

const HISTORY_LIMIT = 25_000;

describe('Definition: backfill', () => {
  const definition = backfillDefinition();
  const map = definition.States.CopySegments as Extract<AslState, { Type: 'Map' }>;
  const loop = map.ItemProcessor;

  it('uses only what the local interpreter runs faithfully (no JSONata, Assign, falsy Pass Result, RetryCount)', () => {
    const text = JSON.stringify(definition);
    expect(text).not.toMatch(/JSONata|"Assign"|\{%|RetryCount/);
    const passResults = Object.values({ ...definition.States, ...loop.States })
      .filter((s) => s.Type === 'Pass' && 'Result' in s)
      .map((s) => (s as { Result: unknown }).Result);
    for (const r of passResults) expect(typeof r === 'object' && r !== null).toBe(true);
  });

  it('copies segments in a Distributed Map, whose children are executions with their own history', () => {
    expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    expect(map.ResultPath).toBeNull(); // 10,000 segment results would not fit the 256 KiB payload
    const inline = withInlineMaps(definition).States.CopySegments as typeof map;
    expect(inline.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'INLINE' });
    expect(inline.ItemProcessor.States).toEqual(loop.States);
  });

  it('keeps a segment child execution under the history limit for the largest allowed round', () => {
    // Prepare: the longest iteration (copy path) and the wait path, from the definition itself
    const copy = pathEvents(loop, [
      'ReadControls',
      'ControlsChoice',
      'CopyPages',
      'PagesChoice',
      'NextIteration',
      'IterationChoice',
    ]);
    const wait = pathEvents(loop, [
      'ReadControls',
      'ControlsChoice',
      'WaitForRateLimit',
      'NextIteration',
      'IterationChoice',
    ]);
    const end = pathEvents(loop, ['ReadControls', 'ControlsChoice', 'SegmentDone']) + 2; // + ExecutionStarted/Succeeded

    // Act
    const worst = MAX_ITERATIONS_PER_ROUND * copy + end;

    // Assess: 18 events per iteration; retries add 3 each (TaskFailed, TaskScheduled, TaskStarted)
    expect(copy).toBe(18);
    expect(wait).toBe(13);
    expect(worst).toBeLessThan(HISTORY_LIMIT);
    const retryHeadroom = Math.floor((HISTORY_LIMIT - worst) / 3);
    expect(retryHeadroom).toBeGreaterThanOrEqual(1_000);
  });

  it('keeps the parent execution under the history limit for the largest allowed number of rounds', () => {
    const round = pathEvents(definition, [
      'CopySegments',
      'FinishRound',
      'FinishChoice',
      'NextRound',
      'RoundChoice',
    ]);
    const start = pathEvents(definition, ['Preflight', 'PrepareRound']) + 1;
    const end = pathEvents(definition, ['ContinueAsNew', 'ContinuedAsNew']) + 2;
    expect(round).toBe(15);
    expect(MAX_ROUNDS_PER_EXECUTION * round + start + end).toBeLessThan(HISTORY_LIMIT);
  });
});
