/** `dualread approve [--phase PHASE] --reason TEXT`: a named approval for entering a phase. */
import type { Command } from 'commander';
import { type Phase, nextPhase } from '../../core/control';
import type { CliContext } from '../context';
import { UsageError } from '../errors';
import { phaseArg } from './parse';

export function register(program: Command, context: CliContext): void {
  program
    .command('approve')
    .description(
      'approve entering a phase (NEW_PRIMARY and FINALIZED need one); lasts until the next phase change',
    )
    .option('--phase <phase>', 'the phase approved (default: the next one)', phaseArg)
    .requiredOption('--reason <text>', 'why, e.g. the change ticket (recorded in the audit log)')
    .action(
      context.action(async (cmd: Command) => {
        const o = cmd.opts<{ phase?: Phase; reason: string }>();
        const target = await context.resolve(cmd);
        const out = context.output(cmd);
        const phase = o.phase ?? nextPhase((await target.plane.status()).state.phase);
        if (!phase) throw new UsageError('the migration is FINALIZED: there is no later phase to approve');
        const r = await target.plane.approve(phase, o.reason);
        out.result(
          { migrationId: target.migration.id, phase, approvals: r.state.approvals ?? [], audit: r.audit },
          () =>
            `${out.c.green('approved')} ${phase} for ${target.migration.id} by ${r.audit.actor}: ${r.audit.reason}`,
        );
      }),
    );
}
