import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { User } from './entities/user.entity';
import { TeamMembers } from './team-members.service';
import { UsersRepository } from './users.repository';

export { User, publicUser, type PublicUser } from './entities/user.entity';
export { UsersRepository, type FailedAttempt, type UserCredentials } from './users.repository';
export { TeamMembers, type MemberLookup, activeTeamMemberSql, teamMemberIdSql } from './team-members.service';

/**
 * The `users` table and its one writer, UsersRepository; TeamMembers answers other modules' questions about who
 * is in a team (CRM reads no `users` row itself). No imports of other feature modules, so auth, MFA, CRM and
 * the users admin module can all import it without a cycle.
 */
@Module({
  imports: [TypeOrmModule.forFeature([User])],
  providers: [UsersRepository, TeamMembers],
  exports: [UsersRepository, TeamMembers],
})
export class UsersModule {}
