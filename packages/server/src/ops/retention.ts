/**
 * The retention job: every `intervalMs` it removes the payloads of finished messages past their
 * project's payload window and deletes finished messages (with deliveries and attempts) and
 * inbound rejections past the record window, plus expired export rows. The queries are in
 * store/retention.ts.
 *
 * It must never hold up delivery: each batch is one short transaction of at most `batchSize`
 * messages, the loop yields to the event loop between batches, and on PostgreSQL a batch skips
 * rows another transaction holds (a replay, another process's retention) instead of waiting —
 * what it skipped is taken next run. One run at a time per process.
 */
import type { Logger } from 'pino';
import type { ProjectSettings } from '../core/model.js';
import type { BatchResult, RetentionCursor, RetentionRepository } from '../store/retention.js';

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  intervalMs: number;
  batchSize: number;
  /** Server defaults for projects that set no window (days, fractions allowed). */
  payloadRetentionDays: number;
  recordRetentionDays: number;
}

/** What one run did. */
export interface RetentionReport {
  payloadsRemoved: number;
  messagesDeleted: number;
  rejectionsDeleted: number;
  exportsDeleted: number;
  /** Transactions it took. */
  batches: number;
}

/** The windows that apply to a project: its own settings, else the server's. */
export function retentionWindows(settings: ProjectSettings, defaults: Pick<RetentionOptions, 'payloadRetentionDays' | 'recordRetentionDays'>) {
  return {
    payloadMs: (settings.payload_retention_days ?? defaults.payloadRetentionDays) * DAY_MS,
    recordMs: (settings.record_retention_days ?? defaults.recordRetentionDays) * DAY_MS,
  };
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  /** The run in progress (or the last one), so that runs never overlap. */
  private current: Promise<unknown> = Promise.resolve();
  private running = false;
  private stopped = false;

  constructor(
    private readonly store: { retention: RetentionRepository },
    private readonly opts: RetentionOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      // A run longer than the interval is not doubled up: the next tick after it ends starts one.
      if (this.running) return;
      this.runOnce().catch((err) => this.log.warn({ err }, 'retention run failed; the next run tries again'));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress (it ends after its current batch). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.current.catch(() => undefined);
  }

  /** One full pass, after the run in progress if there is one. */
  runOnce(): Promise<RetentionReport> {
    const run = this.current.catch(() => undefined).then(() => this.pass());
    this.current = run;
    return run;
  }

  private async pass(): Promise<RetentionReport> {
    this.running = true;
    const report: RetentionReport = { payloadsRemoved: 0, messagesDeleted: 0, rejectionsDeleted: 0, exportsDeleted: 0, batches: 0 };
    try {
      const repo = this.store.retention;
      for (const project of await repo.projects()) {
        if (this.stopped) break;
        const now = Date.now();
        const { payloadMs, recordMs } = retentionWindows(project.settings, this.opts);
        report.messagesDeleted += await this.drain(report, (after) => repo.deleteRecords(project.id, now - recordMs, this.opts.batchSize, after));
        report.payloadsRemoved += await this.drain(report, (after) => repo.removePayloads(project.id, now - payloadMs, this.opts.batchSize, Date.now(), after));
        report.rejectionsDeleted += await this.drain(report, () => repo.deleteRejections(project.id, now - recordMs, this.opts.batchSize));
      }
      const now = Date.now();
      report.exportsDeleted += await this.drain(report, () => repo.deleteExpiredExports(now, this.opts.batchSize));
      const changed = report.payloadsRemoved + report.messagesDeleted + report.rejectionsDeleted + report.exportsDeleted;
      if (changed > 0) this.log.info(report, 'retention run');
      return report;
    } finally {
      this.running = false;
    }
  }

  /** Runs batches, each after the last, until one comes back short (nothing more to take now) or the job stops. */
  private async drain(report: RetentionReport, batch: (after?: RetentionCursor) => Promise<BatchResult>): Promise<number> {
    let done = 0;
    let after: RetentionCursor | undefined;
    for (;;) {
      const r = await batch(after);
      after = r.next;
      report.batches++;
      done += r.done;
      if (r.picked < this.opts.batchSize || this.stopped) return done;
      await yieldToEventLoop();
    }
  }
}
