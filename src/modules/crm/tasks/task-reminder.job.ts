import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../../config/app-config';
import { APP_CONFIG } from '../../../config/config.module';
import { Clock } from '../../../common/time/clock';
import { queryRows } from '../../../database/query-rows';
import { MailService } from '../../notifications/mail.service';
import { JobRuns } from '../../../common/metrics/job-runs';

/** Reminders claimed per statement (small, so that several instances share a burst); a tick repeats the claim while it comes back full. */
const CLAIM_BATCH = 20;
const MAX_ROUNDS = 50;

interface ClaimedReminder {
  id: string;
  title: string;
  due_at: Date;
  priority: string;
  email: string;
  first_name: string;
}

/** Header-safe one-line text: no control characters (a title cannot add mail headers), bounded length. */
function oneLine(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Mails a task's assignee TASK_REMINDER_MINUTES before its dueAt, once, however many instances run.
 *
 * Every TASK_REMINDER_INTERVAL_SECONDS each instance claims the due reminders with one UPDATE (in the function
 * task_reminders_claim) whose row selection is FOR UPDATE SKIP LOCKED: a row another instance is claiming is
 * skipped, and a row it has just claimed no longer qualifies (reminded_for_due_at = due_at) when re-checked
 * under the lock. Only the claimer mails. Moving due_at clears the claim (tasks_bookkeeping trigger), so the
 * new date gets its own reminder.
 *
 * A reminder qualifies while the task is open, live, assigned to an enabled user, and now lies in
 * [due_at - lead, due_at + grace): a task created already long overdue gets none, and one whose window was
 * missed (all instances down) is sent late only within the grace. A failed send releases the claim so a later
 * tick retries; a crash between claim and send loses that one reminder (never duplicates it).
 *
 * Runs across all teams through the SECURITY DEFINER functions task_reminders_claim / task_reminder_release: the
 * API's own role cannot read tasks outside a team's scope. "Now" is the Clock's (passed to the SQL), so a test
 * moves time instead of waiting or back-dating tasks.
 */
@Injectable()
export class TaskReminderJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  static readonly INTERVAL_NAME = 'task-reminders';
  private readonly logger = new Logger(TaskReminderJob.name);
  private running: Promise<number> | null = null;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly mail: MailService,
    private readonly scheduler: SchedulerRegistry,
    private readonly clock: Clock,
    private readonly jobs: JobRuns,
  ) {}

  onApplicationBootstrap(): void {
    const timer = setInterval(() => void this.tick(), this.config.taskReminders.intervalMs);
    timer.unref();
    this.scheduler.addInterval(TaskReminderJob.INTERVAL_NAME, timer);
  }

  /** No new pass starts; one under way finishes before the pool closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.scheduler.doesExist('interval', TaskReminderJob.INTERVAL_NAME))
      this.scheduler.deleteInterval(TaskReminderJob.INTERVAL_NAME);
    await this.running?.catch(() => undefined);
  }

  /** One pass (skipped when the previous one is still running). Resolves to the number of reminders sent. */
  tick(): Promise<number> {
    if (this.running) return this.running;
    if (this.stopped) return Promise.resolve(0);
    this.running = this.jobs
      .run(TaskReminderJob.INTERVAL_NAME, { everyMs: this.config.taskReminders.intervalMs }, () => this.sendDue())
      .catch((err: Error) => {
        this.logger.warn(`task reminders: ${err.message}`);
        return 0;
      })
      .finally(() => (this.running = null));
    return this.running;
  }

  private async sendDue(): Promise<number> {
    let sent = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const claimed = await this.claim();
      for (const reminder of claimed) if (await this.send(reminder)) sent++;
      if (claimed.length < CLAIM_BATCH) break;
    }
    return sent;
  }

  /** Claims up to CLAIM_BATCH due reminders; committed (autocommit) before any mail leaves. */
  private claim(): Promise<ClaimedReminder[]> {
    const { leadMs, graceMs } = this.config.taskReminders;
    // task_reminders_claim (SECURITY DEFINER, migration LeastPrivilegeApiRole): the API role has no access to
    // tasks outside a team's scope; the function claims across teams and returns only what the mail needs.
    return queryRows<ClaimedReminder>(
      this.dataSource.manager,
      `SELECT id, title, due_at, priority, email, first_name
         FROM task_reminders_claim($4::timestamptz, $1::interval, $2::interval, $3)`,
      [`${leadMs} milliseconds`, `${graceMs} milliseconds`, CLAIM_BATCH, this.clock.now()],
    );
  }

  private async send(reminder: ClaimedReminder): Promise<boolean> {
    const title = oneLine(reminder.title, 150);
    const due = reminder.due_at;
    const overdue = due.getTime() <= this.clock.nowMs();
    try {
      await this.mail.send({
        to: reminder.email,
        subject: `${overdue ? 'Task overdue' : 'Task due soon'}: ${title}`,
        text:
          `Hello ${oneLine(reminder.first_name, 100)},\n\n` +
          `your task "${title}" (priority ${reminder.priority}) is due ${due.toISOString()}.\n\n` +
          `Task id: ${reminder.id}\n` +
          `Open it in the API: GET ${this.config.publicUrl}/v1/tasks/${reminder.id}\n`,
      });
      return true;
    } catch (err) {
      // Give the claim back so that a later tick retries (a moved due date has cleared it already).
      await queryRows(this.dataSource.manager, `SELECT task_reminder_release($1)`, [reminder.id]).catch(
        () => undefined,
      );
      this.logger.warn(`task reminder for ${reminder.id} not sent: ${(err as Error).message}`);
      return false;
    }
  }
}
