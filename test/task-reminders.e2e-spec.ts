import { STRONG_PASSWORD, type SignedIn, loginOk, registerTeam, uniqueEmail } from './helpers/auth';
import { type SentMail, readOutbox } from './helpers/outbox';
import { type TestApp, createTestDatabase, startTestApp, type TestDatabase } from './helpers/test-app';
import { TaskReminderJob } from '../src/modules/crm/tasks/task-reminder.job';
import { MailService } from '../src/modules/notifications/mail.service';
import { ManualClock } from '../src/common/time/clock';

type Row = Record<string, any>;
const MINUTE = 60_000;

/**
 * Task reminders with two instances on one database, both jobs ticking every 100 ms: each reminder is mailed
 * exactly once (to the assignee), moving dueAt re-arms it, and tasks that are not open, not assigned, trashed,
 * too far ahead or long overdue get none.
 *
 * "None" and "exactly one" are checked without waiting on the clock: after the expected mails arrived, both
 * instances run complete passes of the job themselves (tick() resolves when a whole claim-and-send pass is
 * done), so any reminder still claimable would have been sent by the time the outboxes are read.
 */
describe('task reminders across instances', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let admin: SignedIn;
  let agent: { id: string; email: string };

  const env = {
    TASK_REMINDER_MINUTES: '60',
    TASK_REMINDER_INTERVAL_SECONDS: '0.1',
    TASK_REMINDER_GRACE_MINUTES: '15',
    REQUIRE_MFA_FOR_ADMIN_ACTIONS: 'false',
  };
  const mails = (): SentMail[] =>
    [...readOutbox(a), ...readOutbox(b)].filter((m) => /^Task (due soon|overdue)/.test(m.subject));
  const mailsFor = (title: string) => mails().filter((m) => m.subject.endsWith(`: ${title}`));
  /** Both instances run full passes, concurrently, several times. */
  const settle = async () => {
    const jobs = [a, b].map((app) => app.app.get(TaskReminderJob, { strict: false }));
    for (let i = 0; i < 3; i++) await Promise.all(jobs.flatMap((j) => [j.tick(), j.tick()]));
  };
  const task = async (body: Row, token = admin.accessToken): Promise<Row> => {
    const res = await a.http.post('/v1/tasks', body, { token });
    if (res.status !== 201) throw new Error(`task: ${res.status} ${res.text}`);
    return res.body.data;
  };
  const inMinutes = (m: number) => new Date(Date.now() + m * MINUTE).toISOString();

  beforeAll(async () => {
    db = await createTestDatabase();
    a = await startTestApp({ env, database: db });
    b = await startTestApp({ env, database: db });
    admin = await registerTeam(a);
    const email = uniqueEmail('agent');
    const res = await a.http.post(
      '/v1/users',
      { email, password: STRONG_PASSWORD, firstName: 'Remy', lastName: 'Agent', role: 'agent' },
      { token: admin.accessToken },
    );
    if (res.status !== 201) throw new Error(`agent: ${res.status} ${res.text}`);
    agent = { id: res.body.data.id, email };
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('one mail per reminder with both instances ticking, to the assignee, whichever instance sends it', async () => {
    const titles = Array.from({ length: 60 }, (_, i) => `Reminder race ${i}`);
    // Created out of the window (five hours ahead), then all moved into it by one statement: every reminder
    // falls due at the same instant and both instances' jobs (ticking every 100 ms, plus two direct calls
    // each) race for the same rows.
    for (const [i, title] of titles.entries())
      await task({ title, dueAt: inMinutes(300 + i / 10), assignedTo: i % 2 ? agent.id : undefined });
    const jobs = [a, b].map((app) => app.app.get(TaskReminderJob, { strict: false }));
    await a.dataSource.query(
      `UPDATE tasks SET due_at = due_at - interval '290 minutes' WHERE title LIKE 'Reminder race %'`,
    );
    await Promise.all(jobs.flatMap((j) => [j.tick(), j.tick()]));
    await waitUntil(() => titles.every((title) => mailsFor(title).length > 0));
    await settle();
    for (const [i, title] of titles.entries()) {
      const sent = mailsFor(title);
      expect({ title, count: sent.length }).toEqual({ title, count: 1 });
      expect(sent[0]!.to).toBe(i % 2 ? agent.email : admin.email);
      expect(sent[0]!.subject).toBe(`Task due soon: ${title}`);
    }
    const bySender = [a, b].map(
      (app) => readOutbox(app).filter((m) => m.subject.startsWith('Task due soon: Reminder race')).length,
    );
    expect(bySender[0]! + bySender[1]!).toBe(60);
    const rows = await a.dataSource.query(
      `SELECT count(*)::int AS n FROM tasks WHERE title LIKE 'Reminder race %' AND reminded_for_due_at = due_at`,
    );
    expect(rows[0].n).toBe(60);
  });

  it('moving dueAt re-arms the reminder (once more), other changes do not; moving it back re-arms too', async () => {
    const t1 = await task({ title: 'Move me', dueAt: inMinutes(30) });
    await waitUntil(() => mailsFor('Move me').length > 0);
    await settle();
    expect(mailsFor('Move me')).toHaveLength(1);
    // A change that is not the due date: no new reminder.
    const renamed = await a.http.patch(
      `/v1/tasks/${t1.id}`,
      { priority: 'high', notes: 'x' },
      { token: admin.accessToken },
    );
    expect(renamed.status).toBe(200);
    await settle();
    expect(mailsFor('Move me')).toHaveLength(1);
    // A new due date inside the window: a second reminder, exactly one.
    const first = t1.dueAt as string;
    await a.http.patch(`/v1/tasks/${t1.id}`, { dueAt: inMinutes(45) }, { token: admin.accessToken });
    await waitUntil(() => mailsFor('Move me').length >= 2);
    await settle();
    expect(mailsFor('Move me')).toHaveLength(2);
    // Back to the first date: that is a move too.
    await a.http.patch(`/v1/tasks/${t1.id}`, { dueAt: first }, { token: admin.accessToken });
    await waitUntil(() => mailsFor('Move me').length >= 3);
    await settle();
    expect(mailsFor('Move me')).toHaveLength(3);
    // Moved out of the window (three hours ahead): nothing now.
    await a.http.patch(`/v1/tasks/${t1.id}`, { dueAt: inMinutes(180) }, { token: admin.accessToken });
    await settle();
    expect(mailsFor('Move me')).toHaveLength(3);
  });

  it('a past dueAt: long overdue sends nothing, just overdue sends at most one', async () => {
    await task({ title: 'Ancient', dueAt: '2020-01-01T00:00:00Z' });
    await task({ title: 'Yesterday', dueAt: inMinutes(-24 * 60) });
    await task({ title: 'Just missed', dueAt: inMinutes(-2) });
    await waitUntil(() => mailsFor('Just missed').length >= 1);
    await settle();
    expect(mailsFor('Ancient')).toHaveLength(0);
    expect(mailsFor('Yesterday')).toHaveLength(0);
    const missed = mailsFor('Just missed');
    expect(missed).toHaveLength(1);
    expect(missed[0]!.subject).toBe('Task overdue: Just missed');
  });

  it('no reminder for tasks too far ahead, done, cancelled, unassigned, trashed, undated or of a disabled user', async () => {
    await task({ title: 'Far ahead', dueAt: inMinutes(300) });
    await task({ title: 'Already done', dueAt: inMinutes(5), status: 'done' });
    await task({ title: 'Cancelled', dueAt: inMinutes(5), status: 'cancelled' });
    await task({ title: 'Nobody', dueAt: inMinutes(5), assignedTo: null });
    await task({ title: 'Undated' });
    // Out of the window when trashed, then (straight in the database: the API refuses a trashed row) due soon.
    const trashed = await task({ title: 'Trashed', dueAt: inMinutes(90) });
    expect((await a.http.delete(`/v1/tasks/${trashed.id}`, { token: admin.accessToken })).status).toBe(200);
    await a.dataSource.query(`UPDATE tasks SET due_at = $2 WHERE id = $1`, [trashed.id, inMinutes(5)]);
    const email = uniqueEmail('gone');
    const res = await a.http.post(
      '/v1/users',
      { email, password: STRONG_PASSWORD, firstName: 'Gone', lastName: 'User', role: 'agent' },
      { token: admin.accessToken },
    );
    const goneId = res.body.data.id as string;
    const disabledTask = await task({ title: 'Disabled assignee', dueAt: inMinutes(120), assignedTo: goneId });
    await a.dataSource.query(`UPDATE users SET disabled = true WHERE id = $1`, [goneId]);
    await a.dataSource.query(`UPDATE tasks SET due_at = $2 WHERE id = $1`, [disabledTask.id, inMinutes(5)]);
    // A control task in the same state as the others: it does get its mail, so the job did run over them.
    await task({ title: 'Control', dueAt: inMinutes(5) });
    await waitUntil(() => mailsFor('Control').length >= 1);
    await settle();
    for (const title of ['Far ahead', 'Already done', 'Cancelled', 'Nobody', 'Undated', 'Trashed', 'Disabled assignee'])
      expect({ title, count: mailsFor(title).length }).toEqual({ title, count: 0 });
    expect(mailsFor('Control')).toHaveLength(1);
  });

  it('a title cannot add mail headers', async () => {
    const created = await task({ title: 'Innocent\r\nBcc: attacker@example.com', dueAt: inMinutes(20) });
    expect(created.title).toContain('Bcc');
    await waitUntil(() => mails().some((m) => m.subject.startsWith('Task due soon: Innocent')));
    await settle();
    const sent = mails().filter((m) => m.subject.startsWith('Task due soon: Innocent'));
    expect(sent).toHaveLength(1);
    const head = sent[0]!.raw.split(/\r?\n\r?\n/)[0]!;
    expect(head).not.toMatch(/^Bcc:/im);
    expect(sent[0]!.to).toBe(admin.email);
  });

  /** Polls the outboxes (mail arrives from either instance within a few ticks). */
  async function waitUntil(done: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error('timed out waiting for a reminder mail');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
});

describe('task reminders when mail fails', () => {
  let t: TestApp;
  afterAll(() => t?.close());

  it('a failed send gives the claim back, so a later tick retries instead of losing the reminder', async () => {
    // Port 1 on loopback: connection refused at once.
    t = await startTestApp({
      env: { SMTP_URL: 'smtp://127.0.0.1:1', TASK_REMINDER_INTERVAL_SECONDS: '3600', TASK_REMINDER_MINUTES: '60' },
    });
    const admin = await registerTeam(t);
    const res = await t.http.post(
      '/v1/tasks',
      { title: 'Mail is down', dueAt: new Date(Date.now() + 10 * MINUTE).toISOString() },
      { token: admin.accessToken },
    );
    expect(res.status).toBe(201);
    const job = t.app.get(TaskReminderJob, { strict: false });
    const send = jest.spyOn(t.app.get(MailService, { strict: false }), 'send');
    expect(await job.tick()).toBe(0);
    // It was claimed and tried (the send failed)...
    expect(send).toHaveBeenCalledTimes(1);
    expect(send.mock.calls[0]![0].to).toBe(admin.email);
    await expect(send.mock.results[0]!.value).rejects.toThrow();
    // ...and given back.
    const [row] = await t.dataSource.query(`SELECT reminded_for_due_at FROM tasks WHERE id = $1`, [res.body.data.id]);
    expect(row.reminded_for_due_at).toBeNull();
    // Still claimable: the next pass tries again (and fails again, giving it back again).
    expect(await job.tick()).toBe(0);
    expect(send).toHaveBeenCalledTimes(2);
    const [again] = await t.dataSource.query(`SELECT reminded_for_due_at FROM tasks WHERE id = $1`, [res.body.data.id]);
    expect(again.reminded_for_due_at).toBeNull();
  });
});

/** The reminder window on a ManualClock: time moves, the job runs, no task is back-dated. */
describe('task reminders follow the clock', () => {
  const clock = new ManualClock();
  let t: TestApp;
  let admin: SignedIn;
  beforeAll(async () => {
    // The interval is long: only the test's own tick() calls run the job.
    t = await startTestApp({
      clock,
      env: {
        TASK_REMINDER_MINUTES: '60',
        TASK_REMINDER_GRACE_MINUTES: '15',
        TASK_REMINDER_INTERVAL_SECONDS: '3600',
        REQUIRE_MFA_FOR_ADMIN_ACTIONS: 'false',
      },
    });
    admin = await registerTeam(t);
  });
  afterAll(() => t?.close());

  const job = () => t.app.get(TaskReminderJob, { strict: false });
  const dueIn = (minutes: number) => new Date(clock.nowMs() + minutes * MINUTE).toISOString();
  const mailsFor = (title: string) => readOutbox(t).filter((m) => m.subject.endsWith(`: ${title}`));
  const task = async (title: string, dueAt: string): Promise<void> => {
    const res = await t.http.post('/v1/tasks', { title, dueAt }, { token: admin.accessToken });
    if (res.status !== 201) throw new Error(`task: ${res.status} ${res.text}`);
  };

  it('a reminder becomes due TASK_REMINDER_MINUTES before dueAt, not before, and is sent once', async () => {
    await task('Call the notary', dueIn(180));
    expect(await job().tick()).toBe(0);
    clock.advanceMinutes(119); // due in 61 minutes: not yet
    expect(await job().tick()).toBe(0);
    expect(mailsFor('Call the notary')).toHaveLength(0);
    clock.advanceMinutes(2); // due in 59 minutes
    expect(await job().tick()).toBe(1);
    expect(await job().tick()).toBe(0);
    const [mail, ...more] = mailsFor('Call the notary');
    expect(more).toHaveLength(0);
    expect(mail!.subject).toBe('Task due soon: Call the notary');
    expect(mail!.to).toBe(admin.email);
  });

  it('a missed window is made up late only within TASK_REMINDER_GRACE_MINUTES, and says overdue', async () => {
    // Fresh sign-in: earlier tests moved the clock past the first access token's lifetime.
    const token = (await loginOk(t, admin.email, STRONG_PASSWORD)).accessToken;
    for (const [title, minutes] of [
      ['Within grace', 120],
      ['Past grace', 100],
    ] as const) {
      const res = await t.http.post('/v1/tasks', { title, dueAt: dueIn(minutes) }, { token });
      expect(res.status).toBe(201);
    }
    // Every instance was down through both windows: 2 h 10 min later, one is 10 minutes late, one 30.
    clock.advanceMinutes(130);
    expect(await job().tick()).toBe(1);
    expect(mailsFor('Within grace').map((m) => m.subject)).toEqual(['Task overdue: Within grace']);
    expect(mailsFor('Past grace')).toHaveLength(0);
  });
});
