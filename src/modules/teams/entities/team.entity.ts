import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const AGENT_VISIBILITIES = ['team', 'assigned'] as const;
export type AgentVisibility = (typeof AGENT_VISIBILITIES)[number];

@Entity('teams')
export class Team {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** 'team': everyone sees every record; 'assigned': agents and viewers see only their own (enforced by RLS). */
  @Column({ type: 'varchar', length: 10, default: 'team' })
  agentVisibility: AgentVisibility;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
