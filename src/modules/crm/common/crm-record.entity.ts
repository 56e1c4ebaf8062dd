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
}

/** Properties no request body may set. */
export const SYSTEM_FIELDS = ['id', 'teamId', 'createdBy', 'createdByApiKey', 'createdAt', 'updatedAt'] as const;
