import { Migration } from '@mikro-orm/migrations';

/**
 * Run logs move from one row per line to one row per run of consecutive lines
 * (RunLogChunk): ingest was bound by per-row index and foreign-key work. Stored
 * lines are carried over, cut at gaps and every 2,000 seqs.
 */
export class Migration20261127200000_run_log_chunks extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "run_log_chunk" ("run_id" uuid not null, "last_seq" int not null, "first_seq" int not null, "streams" "log_stream"[] not null, "timestamps" timestamptz[] not null, "texts" text[] not null, constraint "run_log_chunk_pkey" primary key ("run_id", "last_seq"));`,
    );
    this.addSql(
      `alter table "run_log_chunk" add constraint "run_log_chunk_run_id_foreign" foreign key ("run_id") references "job_run" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `insert into "run_log_chunk" ("run_id", "last_seq", "first_seq", "streams", "timestamps", "texts")
       select "run_id", max("seq"), min("seq"), array_agg("stream" order by "seq"),
              array_agg("logged_at" order by "seq"), array_agg("text" order by "seq")
       from (select *, "seq" - row_number() over (partition by "run_id" order by "seq") as "island"
             from "run_log_line") as "line"
       group by "run_id", "island", ("seq" - 1) / 2000;`,
    );
    this.addSql(`drop table "run_log_line";`);
    // lz4 compresses a chunk's text in a quarter of pglz's time; servers built without it keep pglz.
    this.addSql(
      `do $$ begin
         if exists (select from pg_settings where name = 'default_toast_compression' and 'lz4' = any(enumvals)) then
           alter table "run_log_chunk" alter column "texts" set compression lz4,
             alter column "timestamps" set compression lz4;
         end if;
       end $$;`,
    );
  }
}
