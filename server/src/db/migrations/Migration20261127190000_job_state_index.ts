import { Migration } from '@mikro-orm/migrations';

/** The overview counts a project's jobs by state (jobStateCounts) on every load. */
export class Migration20261127190000_job_state_index extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "job_project_id_state_index" on "job" ("project_id", "state");`);
  }
}
