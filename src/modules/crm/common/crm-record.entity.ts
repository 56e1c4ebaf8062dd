import { Column, CreateDateColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** Columns every CRM table has (see migrations/1732400000000-crm-resources.ts). */
export abstract class CrmRecord {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Always the caller's team, taken from the principal; never from input. */
  @Column({ type: 'uuid' })
  teamId: string;

  /** The user who created the row; null when an API key did. */
  @Column({ type: 'uuid', nullable: true })
  createdBy: string | null;

  /** The API key that created the row; null when a user did. */
  @Column({ type: 'uuid', nullable: true })
  createdByApiKey: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;

  /** The user responsible for the record (a user of the same team), or null. Writable. */
  @Column({ type: 'uuid', nullable: true })
  assignedTo: string | null;

  /** 1 on create, +1 per change (update, delete, restore): the ETag, checked against If-Match. */
  @Column({ type: 'int', default: 1 })
  version: number;

  /** Set while the record is in the trash; not part of the API shape (the trash list shows it). */
  @Column({ type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}

/** Properties no request body may set. */
export const SYSTEM_FIELDS = [
  'id',
  'teamId',
  'createdBy',
  'createdByApiKey',
  'createdAt',
  'updatedAt',
  'version',
  'deletedAt',
] as const;
