/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Versioned migrations. Each is SQL text applied in one transaction together with its row in
 * schema_version, so a migration is either fully there or not at all. Never edit a released
 * migration: add a new one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "store/store_internal.h"

struct store_migration {
	int version;
	const char *description;
	const char *common; /* both dialects; "@ID@" becomes the dialect's id column */
	const char *sqlite; /* then this on SQLite */
	const char *pg;	    /* or this on PostgreSQL */
};

#define LIVE "state <> 'DETACHED'"
/* Volume columns whose change a host must act on. */
#define VOLUME_ACTED_ON                                                                            \
	"size_bytes, block_size, qos_rw_iops, qos_rw_mbps, qos_r_mbps, qos_w_mbps, "               \
	"snapshot_source, state"

static const struct store_migration migrations[] = {
	{
		1,
		"hosts, nodes, volumes, replicas, mappings, devices, observations",
		"CREATE TABLE hosts ("
		" id @ID@,"
		" name TEXT NOT NULL UNIQUE,"
		" rdma_ips TEXT NOT NULL DEFAULT '',"
		" tcp_ips TEXT NOT NULL DEFAULT '',"
		" created_at BIGINT NOT NULL);"
		"CREATE TABLE nodes ("
		" id @ID@,"
		" name TEXT NOT NULL UNIQUE,"
		" transport TEXT NOT NULL CHECK (transport IN ('rdma', 'tcp')),"
		" address TEXT NOT NULL,"
		" port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),"
		" auth_key_file TEXT," /* a path to a key file; the secret never enters the DB */
		" created_at BIGINT NOT NULL);"
		"CREATE TABLE volumes ("
		" id @ID@,"
		" name TEXT UNIQUE,"
		" size_bytes BIGINT NOT NULL CHECK (size_bytes > 0),"
		" block_size INTEGER NOT NULL CHECK (block_size IN (512, 4096)),"
		" qos_rw_iops BIGINT NOT NULL DEFAULT 0 CHECK (qos_rw_iops >= 0),"
		" qos_rw_mbps BIGINT NOT NULL DEFAULT 0 CHECK (qos_rw_mbps >= 0),"
		" qos_r_mbps BIGINT NOT NULL DEFAULT 0 CHECK (qos_r_mbps >= 0),"
		" qos_w_mbps BIGINT NOT NULL DEFAULT 0 CHECK (qos_w_mbps >= 0),"
		" snapshot_source TEXT,"
		" state TEXT NOT NULL DEFAULT 'READY' CHECK (state IN ('READY', 'RESIZING')),"
		" created_at BIGINT NOT NULL,"
		" CHECK (size_bytes % block_size = 0));"
		"CREATE TABLE replicas ("
		" id @ID@,"
		" volume_id BIGINT NOT NULL REFERENCES volumes(id) ON DELETE CASCADE,"
		" node_id BIGINT NOT NULL REFERENCES nodes(id) ON DELETE RESTRICT,"
		" nqn TEXT NOT NULL UNIQUE,"
		" lvol_uuid TEXT,"
		" in_sync INTEGER NOT NULL DEFAULT 1 CHECK (in_sync IN (0, 1)),"
		" generation BIGINT NOT NULL DEFAULT 0,"
		" pending INTEGER NOT NULL DEFAULT 0 CHECK (pending IN (0, 1)));"
		"CREATE INDEX replicas_volume ON replicas(volume_id);"
		"CREATE INDEX replicas_node ON replicas(node_id);"
		"CREATE TABLE mappings ("
		" id @ID@,"
		/*
		 * RESTRICT, not CASCADE: deleting a host or volume must never take a live mapping
		 * with it, even one a concurrent attach committed a moment before. The delete paths
		 * remove DETACHED history themselves.
		 */
		" volume_id BIGINT NOT NULL REFERENCES volumes(id) ON DELETE RESTRICT,"
		" host_id BIGINT NOT NULL REFERENCES hosts(id) ON DELETE RESTRICT,"
		" vm_id TEXT NOT NULL,"
		" state TEXT NOT NULL CHECK (state IN ('ASSIGNED', 'INITIALISED', 'ATTACHED',"
		"  'DETACH_REQUESTED', 'DETACHED')),"
		" created_at BIGINT NOT NULL,"
		" updated_at BIGINT NOT NULL);"
		/* A volume serves one VM at a time: at most one mapping that is not DETACHED. */
		"CREATE UNIQUE INDEX mappings_one_live ON mappings(volume_id) WHERE " LIVE ";"
		"CREATE INDEX mappings_host ON mappings(host_id, state);"
		"CREATE TABLE devices ("
		" id @ID@,"
		" host_id BIGINT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,"
		" bdf TEXT NOT NULL,"
		" inventory_id TEXT,"
		" created_at BIGINT NOT NULL,"
		" UNIQUE (host_id, bdf));"
		"CREATE TABLE observations ("
		" mapping_id BIGINT PRIMARY KEY REFERENCES mappings(id) ON DELETE CASCADE,"
		" raid_state TEXT NOT NULL DEFAULT '',"
		" members TEXT NOT NULL DEFAULT '',"
		" rebuild_percent INTEGER NOT NULL DEFAULT -1,"
		" last_error TEXT NOT NULL DEFAULT '',"
		" last_error_at BIGINT NOT NULL DEFAULT 0,"
		" updated_at BIGINT NOT NULL);",
		"",
		"",
	},
	{
		2,
		"per-host wake-up counters, bumped by triggers on every change a host acts on",
		"CREATE TABLE host_wakeups ("
		" host_id BIGINT PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,"
		" seq BIGINT NOT NULL DEFAULT 0);"
		"INSERT INTO host_wakeups (host_id, seq) SELECT id, 0 FROM hosts;",
		/* SQLite: the watch polls data_version, then reads its host's counter. */
		"CREATE TRIGGER hosts_wake_new AFTER INSERT ON hosts BEGIN"
		" INSERT INTO host_wakeups (host_id, seq) VALUES (NEW.id, 0); END;"
		"CREATE TRIGGER hosts_wake AFTER UPDATE ON hosts BEGIN"
		" UPDATE host_wakeups SET seq = seq + 1 WHERE host_id = NEW.id; END;"
		"CREATE TRIGGER mappings_wake_ins AFTER INSERT ON mappings BEGIN"
		" UPDATE host_wakeups SET seq = seq + 1 WHERE host_id = NEW.host_id; END;"
		"CREATE TRIGGER mappings_wake_upd AFTER UPDATE ON mappings BEGIN"
		" UPDATE host_wakeups SET seq = seq + 1 WHERE host_id IN (OLD.host_id, "
		"NEW.host_id);"
		" END;"
		"CREATE TRIGGER mappings_wake_del AFTER DELETE ON mappings BEGIN"
		" UPDATE host_wakeups SET seq = seq + 1 WHERE host_id = OLD.host_id; END;"
		"CREATE TRIGGER volumes_wake AFTER UPDATE ON volumes BEGIN"
		" UPDATE host_wakeups SET seq = seq + 1 WHERE host_id IN"
		"  (SELECT host_id FROM mappings WHERE volume_id = NEW.id AND " LIVE "); END;"
		"CREATE TRIGGER replicas_wake_ins AFTER INSERT ON replicas BEGIN"
		" UPDATE host_wakeups SET seq = seq + 1 WHERE host_id IN"
		"  (SELECT host_id FROM mappings WHERE volume_id = NEW.volume_id AND " LIVE
		"); END;"
		"CREATE TRIGGER replicas_wake_upd AFTER UPDATE ON replicas BEGIN"
		" UPDATE host_wakeups SET seq = seq + 1 WHERE host_id IN"
		"  (SELECT host_id FROM mappings WHERE volume_id IN (OLD.volume_id, NEW.volume_id)"
		"   AND " LIVE "); END;"
		"CREATE TRIGGER replicas_wake_del AFTER DELETE ON replicas BEGIN"
		" UPDATE host_wakeups SET seq = seq + 1 WHERE host_id IN"
		"  (SELECT host_id FROM mappings WHERE volume_id = OLD.volume_id AND " LIVE
		"); END;"
		"CREATE TRIGGER nodes_wake AFTER UPDATE ON nodes BEGIN"
		" UPDATE host_wakeups SET seq = seq + 1 WHERE host_id IN"
		"  (SELECT m.host_id FROM mappings m JOIN replicas r ON r.volume_id = m.volume_id"
		"   WHERE r.node_id = NEW.id AND m." LIVE "); END;"
		"CREATE TRIGGER devices_wake_ins AFTER INSERT ON devices BEGIN"
		" UPDATE host_wakeups SET seq = seq + 1 WHERE host_id = NEW.host_id; END;"
		"CREATE TRIGGER devices_wake_upd AFTER UPDATE ON devices BEGIN"
		" UPDATE host_wakeups SET seq = seq + 1 WHERE host_id IN (OLD.host_id, "
		"NEW.host_id);"
		" END;"
		"CREATE TRIGGER devices_wake_del AFTER DELETE ON devices BEGIN"
		" UPDATE host_wakeups SET seq = seq + 1 WHERE host_id = OLD.host_id; END;",
		/*
		 * PostgreSQL: the same counters, and a NOTIFY on the host's channel whenever its
		 * counter moves. NOTIFY is transactional: it is delivered at commit, never for a
		 * rolled-back change.
		 */
		"CREATE FUNCTION diskengine_wake(hid BIGINT) RETURNS void AS $$"
		" BEGIN UPDATE host_wakeups SET seq = seq + 1 WHERE host_id = hid; END"
		" $$ LANGUAGE plpgsql;"
		"CREATE FUNCTION diskengine_wake_volume(vid BIGINT) RETURNS void AS $$"
		" BEGIN UPDATE host_wakeups SET seq = seq + 1 WHERE host_id IN"
		"  (SELECT host_id FROM mappings WHERE volume_id = vid AND " LIVE "); END"
		" $$ LANGUAGE plpgsql;"
		"CREATE FUNCTION diskengine_notify() RETURNS trigger AS $$"
		" BEGIN PERFORM pg_notify('diskengine_host_' || NEW.host_id, ''); RETURN NULL; END"
		" $$ LANGUAGE plpgsql;"
		"CREATE TRIGGER host_wakeups_notify AFTER UPDATE ON host_wakeups FOR EACH ROW"
		" EXECUTE FUNCTION diskengine_notify();"
		"CREATE FUNCTION diskengine_hosts_wake() RETURNS trigger AS $$ BEGIN"
		" IF TG_OP = 'INSERT' THEN"
		"  INSERT INTO host_wakeups (host_id, seq) VALUES (NEW.id, 0);"
		/* the counter row goes with the host: tell its daemon directly */
		" ELSIF TG_OP = 'DELETE' THEN"
		"  PERFORM pg_notify('diskengine_host_' || OLD.id, '');"
		" ELSE PERFORM diskengine_wake(NEW.id); END IF;"
		" RETURN NULL; END $$ LANGUAGE plpgsql;"
		"CREATE TRIGGER hosts_wake AFTER INSERT OR UPDATE OR DELETE ON hosts FOR EACH ROW"
		" EXECUTE FUNCTION diskengine_hosts_wake();"
		/* mappings and devices carry host_id themselves */
		"CREATE FUNCTION diskengine_host_row_wake() RETURNS trigger AS $$ BEGIN"
		" IF TG_OP <> 'INSERT' THEN PERFORM diskengine_wake(OLD.host_id); END IF;"
		" IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.host_id <> OLD.host_id) THEN"
		"  PERFORM diskengine_wake(NEW.host_id); END IF;"
		" RETURN NULL; END $$ LANGUAGE plpgsql;"
		"CREATE TRIGGER mappings_wake AFTER INSERT OR UPDATE OR DELETE ON mappings"
		" FOR EACH ROW EXECUTE FUNCTION diskengine_host_row_wake();"
		"CREATE TRIGGER devices_wake AFTER INSERT OR UPDATE OR DELETE ON devices"
		" FOR EACH ROW EXECUTE FUNCTION diskengine_host_row_wake();"
		"CREATE FUNCTION diskengine_volumes_wake() RETURNS trigger AS $$ BEGIN"
		" PERFORM diskengine_wake_volume(NEW.id); RETURN NULL; END $$ LANGUAGE plpgsql;"
		"CREATE TRIGGER volumes_wake AFTER UPDATE ON volumes FOR EACH ROW"
		" EXECUTE FUNCTION diskengine_volumes_wake();"
		"CREATE FUNCTION diskengine_replicas_wake() RETURNS trigger AS $$ BEGIN"
		" IF TG_OP <> 'INSERT' THEN PERFORM diskengine_wake_volume(OLD.volume_id); END IF;"
		" IF TG_OP <> 'DELETE' THEN PERFORM diskengine_wake_volume(NEW.volume_id); END IF;"
		" RETURN NULL; END $$ LANGUAGE plpgsql;"
		"CREATE TRIGGER replicas_wake AFTER INSERT OR UPDATE OR DELETE ON replicas"
		" FOR EACH ROW EXECUTE FUNCTION diskengine_replicas_wake();"
		"CREATE FUNCTION diskengine_nodes_wake() RETURNS trigger AS $$ BEGIN"
		" UPDATE host_wakeups SET seq = seq + 1 WHERE host_id IN"
		"  (SELECT m.host_id FROM mappings m JOIN replicas r ON r.volume_id = m.volume_id"
		"   WHERE r.node_id = NEW.id AND m." LIVE ");"
		" RETURN NULL; END $$ LANGUAGE plpgsql;"
		"CREATE TRIGGER nodes_wake AFTER UPDATE ON nodes FOR EACH ROW"
		" EXECUTE FUNCTION diskengine_nodes_wake();",
	},
	{
		3,
		"volumes.clean_stop: whether the RAID was last stopped in order",
		"ALTER TABLE volumes ADD COLUMN clean_stop INTEGER NOT NULL DEFAULT 1"
		" CHECK (clean_stop IN (0, 1));",
		/* the daemon's own clean_stop writes must not wake it: list what a host acts on */
		"DROP TRIGGER volumes_wake;"
		"CREATE TRIGGER volumes_wake AFTER UPDATE OF " VOLUME_ACTED_ON " ON volumes BEGIN"
		" UPDATE host_wakeups SET seq = seq + 1 WHERE host_id IN"
		"  (SELECT host_id FROM mappings WHERE volume_id = NEW.id AND " LIVE "); END;",
		"DROP TRIGGER volumes_wake ON volumes;"
		"CREATE TRIGGER volumes_wake AFTER UPDATE OF " VOLUME_ACTED_ON " ON volumes"
		" FOR EACH ROW EXECUTE FUNCTION diskengine_volumes_wake();",
	},
	{
		4,
		"observations.reset_in_progress and path_resets: controller resets seen per "
		"mapping",
		"ALTER TABLE observations ADD COLUMN reset_in_progress INTEGER NOT NULL DEFAULT 0"
		" CHECK (reset_in_progress IN (0, 1));"
		"ALTER TABLE observations ADD COLUMN path_resets TEXT NOT NULL DEFAULT '';",
		"",
		"",
	},
	{
		5,
		"replicas on local PCIe drives: replicas.device_id and nsid; node_id and nqn only "
		"for fabric replicas",
		"",
		/*
		 * SQLite cannot drop NOT NULL: rebuild the table. nodes_wake names replicas in its
		 * body, so it goes first and comes back with the replicas triggers.
		 */
		"DROP TRIGGER nodes_wake;"
		"CREATE TABLE replicas_v5 ("
		" id INTEGER PRIMARY KEY AUTOINCREMENT,"
		" volume_id BIGINT NOT NULL REFERENCES volumes(id) ON DELETE CASCADE,"
		" node_id BIGINT REFERENCES nodes(id) ON DELETE RESTRICT,"
		" nqn TEXT UNIQUE,"
		" lvol_uuid TEXT,"
		" in_sync INTEGER NOT NULL DEFAULT 1 CHECK (in_sync IN (0, 1)),"
		" generation BIGINT NOT NULL DEFAULT 0,"
		" pending INTEGER NOT NULL DEFAULT 0 CHECK (pending IN (0, 1)),"
		" device_id BIGINT REFERENCES devices(id) ON DELETE RESTRICT,"
		" nsid INTEGER NOT NULL DEFAULT 1 CHECK (nsid BETWEEN 1 AND 4294967294),"
		" CHECK ((node_id IS NULL) <> (device_id IS NULL)),"
		" CHECK ((node_id IS NULL) = (nqn IS NULL)));"
		"INSERT INTO replicas_v5 (id, volume_id, node_id, nqn, lvol_uuid, in_sync, "
		"generation, pending) SELECT id, volume_id, node_id, nqn, lvol_uuid, in_sync, "
		"generation, pending FROM replicas;"
		"DROP TABLE replicas;"
		"ALTER TABLE replicas_v5 RENAME TO replicas;"
		"CREATE INDEX replicas_volume ON replicas(volume_id);"
		"CREATE INDEX replicas_node ON replicas(node_id);"
		"CREATE UNIQUE INDEX replicas_device_ns ON replicas(device_id, nsid)"
		" WHERE device_id IS NOT NULL;"
		"CREATE TRIGGER replicas_wake_ins AFTER INSERT ON replicas BEGIN"
		" UPDATE host_wakeups SET seq = seq + 1 WHERE host_id IN"
		"  (SELECT host_id FROM mappings WHERE volume_id = NEW.volume_id AND " LIVE
		"); END;"
		"CREATE TRIGGER replicas_wake_upd AFTER UPDATE ON replicas BEGIN"
		" UPDATE host_wakeups SET seq = seq + 1 WHERE host_id IN"
		"  (SELECT host_id FROM mappings WHERE volume_id IN (OLD.volume_id, NEW.volume_id)"
		"   AND " LIVE "); END;"
		"CREATE TRIGGER replicas_wake_del AFTER DELETE ON replicas BEGIN"
		" UPDATE host_wakeups SET seq = seq + 1 WHERE host_id IN"
		"  (SELECT host_id FROM mappings WHERE volume_id = OLD.volume_id AND " LIVE
		"); END;"
		"CREATE TRIGGER nodes_wake AFTER UPDATE ON nodes BEGIN"
		" UPDATE host_wakeups SET seq = seq + 1 WHERE host_id IN"
		"  (SELECT m.host_id FROM mappings m JOIN replicas r ON r.volume_id = m.volume_id"
		"   WHERE r.node_id = NEW.id AND m." LIVE "); END;",
		"ALTER TABLE replicas ALTER COLUMN node_id DROP NOT NULL;"
		"ALTER TABLE replicas ALTER COLUMN nqn DROP NOT NULL;"
		"ALTER TABLE replicas ADD COLUMN device_id BIGINT REFERENCES devices(id)"
		" ON DELETE RESTRICT;"
		"ALTER TABLE replicas ADD COLUMN nsid BIGINT NOT NULL DEFAULT 1"
		" CHECK (nsid BETWEEN 1 AND 4294967294);"
		"ALTER TABLE replicas ADD CHECK ((node_id IS NULL) <> (device_id IS NULL));"
		"ALTER TABLE replicas ADD CHECK ((node_id IS NULL) = (nqn IS NULL));"
		"CREATE UNIQUE INDEX replicas_device_ns ON replicas(device_id, nsid)"
		" WHERE device_id IS NOT NULL;",
	},
	{
		6,
		"volumes: snapshot source (volume, raid uuid, data_offset), the raid as created "
		"(uuid, data_offset), ever attached, clones wiped",
		"ALTER TABLE volumes ADD COLUMN source_volume_id BIGINT;"
		"ALTER TABLE volumes ADD COLUMN source_raid_uuid TEXT NOT NULL DEFAULT '';"
		"ALTER TABLE volumes ADD COLUMN source_data_offset BIGINT NOT NULL DEFAULT 0;"
		"ALTER TABLE volumes ADD COLUMN raid_uuid TEXT NOT NULL DEFAULT '';"
		"ALTER TABLE volumes ADD COLUMN raid_data_offset BIGINT NOT NULL DEFAULT 0;"
		"ALTER TABLE volumes ADD COLUMN ever_attached INTEGER NOT NULL DEFAULT 0"
		" CHECK (ever_attached IN (0, 1));"
		"ALTER TABLE volumes ADD COLUMN init_wiped INTEGER NOT NULL DEFAULT 0"
		" CHECK (init_wiped IN (0, 1));"
		/* a volume that ever served a VM holds its own data: never wiped */
		"UPDATE volumes SET ever_attached = 1 WHERE id IN"
		" (SELECT volume_id FROM mappings WHERE state <> 'ASSIGNED');",
		"",
		"",
	},
};

static const char version_table[] = "CREATE TABLE IF NOT EXISTS schema_version ("
				    " version INTEGER PRIMARY KEY,"
				    " description TEXT NOT NULL,"
				    " applied_at BIGINT NOT NULL)";

int store_schema_latest(void)
{
	return migrations[ARRAY_SIZE(migrations) - 1].version;
}

/* "@ID@" -> the dialect's auto-increment primary key. */
static char *migration_text(const struct store_migration *m, enum store_dialect d)
{
	const char *id = d == STORE_DIALECT_SQLITE
				 ? "INTEGER PRIMARY KEY AUTOINCREMENT"
				 : "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
	const char *extra = d == STORE_DIALECT_SQLITE ? m->sqlite : m->pg;
	size_t cap = strlen(m->common) * 2 + strlen(extra) + 1;
	char *out = malloc(cap), *o = out;

	if (!out)
		return NULL;
	for (const char *p = m->common; *p;) {
		if (strncmp(p, "@ID@", 4) == 0) {
			o += sprintf(o, "%s", id);
			p += 4;
		} else {
			*o++ = *p++;
		}
	}
	strcpy(o, extra);
	return out;
}

int store_schema_current(struct store *s, int *current, struct store_error *err)
{
	const char *exists =
		s->dialect == STORE_DIALECT_SQLITE
			? "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
			  "name = 'schema_version'"
			/* pg_tables lists a table whatever the role may do with it, where
			 * information_schema hides it from a role without a grant on it. */
			: "SELECT count(*) FROM pg_catalog.pg_tables WHERE "
			  "schemaname = current_schema() AND tablename = 'schema_version'";
	struct store_rows *rows = NULL;
	int64_t v = 0;
	int r;

	r = store_select(s, exists, NULL, 0, &rows, err);
	if (r < 0)
		return r;
	if (store_rows_int(rows, 0, 0) > 0) {
		store_rows_free(rows);
		rows = NULL;
		r = store_select(s, "SELECT COALESCE(MAX(version), 0) FROM schema_version", NULL, 0,
				 &rows, err);
		if (r < 0)
			return r;
		v = store_rows_int(rows, 0, 0);
	}
	store_rows_free(rows);
	*current = (int)v;
	return 0;
}

struct apply_ctx {
	const struct store_migration *m;
	bool ran;
};

static int apply_one(struct store *s, void *arg, struct store_error *err)
{
	struct apply_ctx *ctx = arg;
	struct store_param p[3];
	_cleanup_free_ char *sql = NULL;
	int current, r;

	r = s->ops->schema_lock(s->db, err);
	if (r < 0)
		return r;
	r = s->ops->exec_script(s->db, version_table, err);
	if (r < 0)
		return r;
	r = store_schema_current(s, &current, err);
	if (r < 0 || current >= ctx->m->version)
		return r; /* someone else got there first */
	sql = migration_text(ctx->m, s->dialect);
	if (!sql)
		return -ENOMEM;
	r = s->ops->exec_script(s->db, sql, err);
	if (r < 0)
		return r;
	p[0] = sp_int(ctx->m->version);
	p[1] = sp_text(ctx->m->description);
	p[2] = sp_int(util_wall_s());
	r = store_exec(s,
		       "INSERT INTO schema_version (version, description, applied_at) "
		       "VALUES (?, ?, ?)",
		       p, 3, err);
	if (r == 0)
		ctx->ran = true;
	return r;
}

/* Put what failed, and for a role without DDL rights who must migrate, before the cause. */
static int migration_failed(struct store_error *err, int r, int version, int current)
{
	char msg[sizeof(err->message)];

	if (!err)
		return r;
	memcpy(msg, err->message, sizeof(msg));
	if (r != -EACCES)
		return store_seterr(err, r, "schema migration %d failed: %s", version, msg);
	msg[strcspn(msg, "\n")] = '\0';
	return store_seterr(err, r,
			    "this role may not change the database schema (version %d; this "
			    "diskengine needs %d): run 'diskengine db migrate' as the schema's "
			    "owner (%s)",
			    current, store_schema_latest(), msg);
}

int store_schema_apply(struct store *s, int *applied, struct store_error *err)
{
	return store_schema_apply_to(s, store_schema_latest(), applied, err);
}

int store_schema_apply_to(struct store *s, int target, int *applied, struct store_error *err)
{
	int current, n = 0, r;

	r = store_schema_current(s, &current, err);
	if (r < 0)
		return r;
	if (current > store_schema_latest())
		return store_seterr(err, -EPROTO,
				    "database schema version %d is newer than this diskengine "
				    "knows (%d); upgrade diskengine",
				    current, store_schema_latest());
	for (size_t i = 0; i < ARRAY_SIZE(migrations); i++) {
		struct apply_ctx ctx = {.m = &migrations[i]};

		if (migrations[i].version <= current || migrations[i].version > target)
			continue;
		r = store_txn(s, true, apply_one, &ctx, err);
		if (r < 0)
			return migration_failed(err, r, migrations[i].version, current);
		if (ctx.ran) {
			log_debug("store: applied migration %d: %s", migrations[i].version,
				  migrations[i].description);
			n++;
		}
	}
	if (applied)
		*applied = n;
	return 0;
}
