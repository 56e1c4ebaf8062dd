import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AppException } from '../../common/http/app.exception';
import { Actor, actorUserId } from '../../common/security/principal';
import { Clock } from '../../common/time/clock';
import { queryRows } from '../../database/query-rows';
import { AuditService } from '../audit/audit.service';
import { AccountNotices } from '../auth/account-notices.service';
import { SessionsService } from '../auth/sessions.service';
import { MfaService } from '../mfa/mfa.service';
import { SecurityEventsService, eventContext } from '../security-events/security-events.service';
import { PasswordHasher } from '../passwords/password-hasher.service';
import { PasswordPolicy } from '../passwords/password-policy.service';
import { type PublicUser, type User, UsersRepository, publicUser } from '../users/users.module';
import { CreateUserDto, UpdateUserDto } from './dto/users-admin.dto';
import { RecordAssignmentService } from '../crm/common/record-assignment.service';

/** The one answer for a taken email, whichever team has it (the console shows these words). */
const EMAIL_TAKEN = 'A user with this email already exists';

/**
 * Team user administration (admins only). The team always comes from the caller. Every change commits with
 * its audit row (never the password hash); disabling, deleting or re-roling a user revokes their sessions in
 * the same transaction. A team always keeps at least one enabled admin.
 */
@Injectable()
export class UsersAdminService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly audit: AuditService,
    private readonly sessions: SessionsService,
    private readonly users: UsersRepository,
    private readonly mfa: MfaService,
    private readonly events: SecurityEventsService,
    private readonly notices: AccountNotices,
    private readonly assignments: RecordAssignmentService,
    private readonly clock: Clock,
  ) {}

  private teamOf(actor: Actor): string {
    const teamId = actor.principal?.teamId;
    if (!teamId) throw AppException.unauthenticated();
    return teamId;
  }

  async list(actor: Actor): Promise<PublicUser[]> {
    const users = await this.users.listTeam(this.teamOf(actor));
    return users.map(publicUser);
  }

  async get(actor: Actor, id: string): Promise<PublicUser> {
    const user = await this.users.findInTeam(id, this.teamOf(actor));
    if (!user) throw AppException.notFound('User');
    return publicUser(user);
  }

  /**
   * A taken email (in this team or any other) is 409 with one message, the answer POST /v1/auth/register gives
   * anyone; the route counts toward that route's limit (RATE_LIMIT_REGISTER_*), so an admin learns no more, and no
   * faster, than an anonymous caller. The password is hashed first either way: a taken email is not answered
   * sooner than a free one. (A 201 that creates nothing would not hide it: the admin set the password and could
   * sign in with it. Invitations are the way to add someone without learning whether they have an account.)
   */
  async create(actor: Actor, dto: CreateUserDto): Promise<PublicUser> {
    const teamId = this.teamOf(actor);
    this.policy.assertAcceptable(dto.password, { email: dto.email });
    const passwordHash = await this.hasher.hash(dto.password);
    if (await this.users.emailTaken(dto.email)) throw AppException.conflict(EMAIL_TAKEN);
    return this.dataSource.transaction(async (m) => {
      const id = await this.users.insertTeamMember(
        { teamId, email: dto.email, passwordHash, firstName: dto.firstName, lastName: dto.lastName, role: dto.role },
        m,
      );
      const user = publicUser(await this.users.findByIdOrFail(id, m));
      await this.audit.record(m, actor, {
        action: 'CREATE',
        resourceType: 'user',
        resourceId: user.id,
        oldValues: null,
        newValues: user,
      });
      return user;
    });
  }

  async update(actor: Actor, id: string, dto: UpdateUserDto): Promise<PublicUser> {
    const teamId = this.teamOf(actor);
    if (dto.role === undefined && dto.disabled === undefined)
      throw AppException.validation('Invalid input: send role and/or disabled');
    const self = actorUserId(actor) === id;
    if (self && dto.role !== undefined && dto.role !== 'admin')
      throw AppException.validation('You cannot change your own role; ask another admin');
    if (self && dto.disabled === true)
      throw AppException.validation('You cannot disable your own account; ask another admin');

    return this.dataSource.transaction(async (m) => {
      const old = await this.lockTeamAndUser(m, teamId, id);
      const role = dto.role ?? old.role;
      const disabled = dto.disabled ?? old.disabled;
      if (old.role === 'admin' && !old.disabled && (role !== 'admin' || disabled))
        await this.assertAnotherAdmin(m, teamId, id);

      const changed = (['role', 'disabled'] as const).filter((f) => dto[f] !== undefined && dto[f] !== old[f]);
      if (changed.length === 0) return publicUser(old);
      await this.users.updateRoleAndDisabled(id, teamId, { role, disabled }, m);
      if (disabled && !old.disabled) await this.revokeSessions(m, id, 'user_disabled');
      else if (role !== old.role) await this.revokeSessions(m, id, 'role_changed');
      const user = publicUser(await this.users.findByIdOrFail(id, m));
      await this.audit.record(m, actor, {
        action: 'UPDATE',
        resourceType: 'user',
        resourceId: id,
        oldValues: Object.fromEntries(changed.map((f) => [f, old[f]])),
        newValues: Object.fromEntries(changed.map((f) => [f, user[f]])),
      });
      return user;
    });
  }

  async remove(actor: Actor, id: string, reassignTo?: string): Promise<{ id: string; deleted: true }> {
    const teamId = this.teamOf(actor);
    if (actorUserId(actor) === id)
      throw AppException.validation('You cannot delete your own account; ask another admin');
    return this.dataSource.transaction(async (m) => {
      const old = await this.lockTeamAndUser(m, teamId, id);
      if (old.role === 'admin' && !old.disabled) await this.assertAnotherAdmin(m, teamId, id);
      // Their records go to reassignTo or to nobody, with audit rows, before the row they point at goes.
      if (reassignTo !== undefined) await this.assignments.assertAssignable(m, teamId, reassignTo, id, 'reassignTo');
      await this.assignments.releaseUserWithin(m, actor, id, reassignTo ?? null);
      await this.revokeSessions(m, id, 'user_deleted');
      await this.users.remove(id, teamId, m);
      await this.audit.record(m, actor, {
        action: 'DELETE',
        resourceType: 'user',
        resourceId: id,
        oldValues: publicUser(old),
        newValues: null,
      });
      return { id, deleted: true as const };
    });
  }

  /**
   * Clears a lockout (a member who locked themselves out, or whose account an attacker locked). Not yourself:
   * the lock protects your password against whoever holds your token; another admin lifts it.
   */
  async unlock(actor: Actor, id: string): Promise<PublicUser> {
    const teamId = this.teamOf(actor);
    if (actorUserId(actor) === id)
      throw AppException.validation('You cannot unlock your own account; ask another admin');
    const { user, wasLocked } = await this.dataSource.transaction(async (m) => {
      const old = await this.lockTeamAndUser(m, teamId, id);
      const wasLocked = old.lockedUntil !== null && old.lockedUntil.getTime() > this.clock.nowMs();
      await this.users.unlock(id, teamId, m);
      await this.audit.record(m, actor, {
        action: 'UPDATE',
        resourceType: 'user',
        resourceId: id,
        oldValues: {
          failedLoginAttempts: old.failedLoginAttempts,
          lockedUntil: old.lockedUntil?.toISOString() ?? null,
        },
        newValues: { failedLoginAttempts: 0, lockedUntil: null },
      });
      return { user: publicUser(await this.users.findByIdOrFail(id, m)), wasLocked };
    });
    await this.events.record('account_unlocked', 'medium', {
      ...eventContext(actor, { targetUserId: id, unlockedBy: actorUserId(actor), wasLocked }),
      userId: id,
    });
    return user;
  }

  /**
   * Turns off a member's 2FA (lost phone and backup codes): secret and codes gone, every session of theirs
   * revoked, a mail to them. Not yourself: your own 2FA goes off through POST /v1/auth/2fa/disable, which asks
   * for your password and a code; this route asks for neither, so it must not be a shortcut around them.
   */
  async resetMfa(actor: Actor, id: string): Promise<PublicUser> {
    const teamId = this.teamOf(actor);
    if (actorUserId(actor) === id)
      throw AppException.validation(
        'You cannot reset your own two-factor authentication; use POST /v1/auth/2fa/disable or ask another admin',
      );
    const { user, revoked } = await this.dataSource.transaction(async (m) => {
      const old = await this.lockTeamAndUser(m, teamId, id);
      if (!old.mfaEnabled) throw AppException.conflict('This user does not have two-factor authentication enabled');
      await this.mfa.resetForUser(id, m);
      const revoked = await this.sessions.revokeAllForUser(id, 'mfa_reset', undefined, m);
      await this.audit.record(m, actor, {
        action: 'UPDATE',
        resourceType: 'user',
        resourceId: id,
        oldValues: { mfaEnabled: true },
        newValues: { mfaEnabled: false },
      });
      return { user: publicUser(await this.users.findByIdOrFail(id, m)), revoked: revoked.length };
    });
    this.sessions.forgetUser(id);
    await this.events.record('mfa_reset', 'high', {
      ...eventContext(actor, { targetUserId: id, resetBy: actorUserId(actor), sessionsRevoked: revoked }),
      userId: id,
    });
    await this.notices.securityChange({
      to: user.email,
      subject: 'Two-factor authentication was reset on your Hearth CRM account',
      what:
        'An admin of your team turned off two-factor authentication for your account (lost phone or codes). ' +
        'Sign in with your password and turn it on again under Security.',
      ip: actor.ip,
      revokedSessions: revoked,
    });
    return user;
  }

  /**
   * Locks the team row (NO KEY UPDATE: CRM inserts referencing the team are not blocked) so admin changes in
   * one team take turns, and the last-admin rule cannot be raced; then the user, in this team or 404.
   */
  private async lockTeamAndUser(m: EntityManager, teamId: string, id: string): Promise<User> {
    await queryRows(m, `SELECT id FROM teams WHERE id = $1 FOR NO KEY UPDATE`, [teamId]);
    const user = await this.users.lockInTeam(id, teamId, m);
    if (!user) throw AppException.notFound('User');
    return user;
  }

  private async assertAnotherAdmin(m: EntityManager, teamId: string, exceptId: string): Promise<void> {
    if ((await this.users.countOtherEnabledAdmins(teamId, exceptId, m)) === 0)
      throw AppException.conflict('A team must keep at least one enabled admin');
  }

  /** Ends every live session of the user (the auth module's sessions table), in the caller's transaction. */
  private async revokeSessions(m: EntityManager, userId: string, reason: string): Promise<void> {
    await this.sessions.revokeAllForUser(userId, reason, undefined, m);
    // Also drop this instance's cached view of the user (role, disabled) at once.
    this.sessions.forgetUser(userId);
  }
}
