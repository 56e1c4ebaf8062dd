import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { User } from './entities/user.entity';
import { UsersRepository } from './users.repository';

export { User, publicUser, type PublicUser } from './entities/user.entity';
export { UsersRepository, type FailedAttempt, type UserCredentials } from './users.repository';

/**
 * The `users` table and its one writer, UsersRepository. No imports of other feature modules, so auth, MFA and
 * the users admin module can all import it without a cycle.
 */
@Module({
  imports: [TypeOrmModule.forFeature([User])],
  providers: [UsersRepository],
  exports: [UsersRepository],
})
export class UsersModule {}
