/* SPDX-License-Identifier: Apache-2.0 */
/*
 * drift's classification on hand-built worlds: live SPDK against the database through the
 * planner (missing, orphans in teardown order with when, conflict, foreign, nothing when in
 * agreement), and the saved config against the live one call by call.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "reconcile/drift.h"

static struct fx F;

static int setup(void **state)
{
	(void)state;
	fx_init(&F);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fx_done(&F);
	return 0;
}

/* The world's drift; the report is the caller's to free. */
static struct drift_report live_drift(void)
{
	struct drift_report r = {0};

	fx_plan(&F); /* fills F.d and F.o */
	assert_int_equal(drift_live(&F.d, &F.o, &F.hf, &r), 0);
	return r;
}

static const struct drift_item *find(struct drift_report *r, enum drift_class c, const char *kind,
				     const char *object)
{
	struct drift_item *it = drift_find(r, kind, object);

	if (!it || it->cls != c) {
		for (size_t i = 0; i < r->n; i++)
			fprintf(stderr, "  %s %s %s: %s | %s\n", drift_class_name(r->items[i].cls),
				r->items[i].kind, r->items[i].object, r->items[i].detail,
				r->items[i].next);
		fail_msg("no %s %s %s", drift_class_name(c), kind, object);
	}
	return it;
}

static void test_in_agreement(void **state)
{
	(void)state;
	fx_attached(&F, 1, 10);
	struct drift_report r = live_drift();

	assert_int_equal(r.n, 0);
	drift_report_free(&r);
}

static void test_missing_vhost(void **state)
{
	(void)state;
	fx_attached(&F, 1, 10);
	fx_remove_vhost(&F, "vhost10");
	struct drift_report r = live_drift();
	const struct drift_item *it = find(&r, DRIFT_MISSING, "vhost", "vhost10");

	assert_int_equal(it->mapping_id, 10);
	assert_non_null(strstr(it->next, "creates it"));
	assert_true(json_is_null(json_object_get(it->evidence, "live")));
	assert_string_equal(
		json_string_value(json_object_get(
			json_array_get(json_object_get(json_object_get(it->evidence, "database"),
						       "mappings"),
				       0),
			"state")),
		"ATTACHED");
	assert_int_equal(r.n, 1);
	drift_report_free(&r);
}

static void test_orphans_in_teardown_order(void **state)
{
	(void)state;
	struct volume *v = fx_attached(&F, 1, 10);
	char c0[MODEL_NAME_MAX], c1[MODEL_NAME_MAX];

	fx_ctrlr_name(v, 0, c0, sizeof(c0));
	fx_ctrlr_name(v, 1, c1, sizeof(c1));
	F.maps[0].state = MAPPING_DETACHED;
	struct drift_report r = live_drift();

	assert_non_null(strstr(find(&r, DRIFT_ORPHAN, "vhost", "vhost10")->next, "orphan-grace"));
	assert_non_null(strstr(find(&r, DRIFT_ORPHAN, "raid", "raid_1")->next, "once vhost10 is"));
	assert_non_null(strstr(find(&r, DRIFT_ORPHAN, "controller", c0)->next, "raid_1"));
	assert_non_null(strstr(find(&r, DRIFT_ORPHAN, "controller", c1)->next, "raid_1"));
	assert_int_equal(r.n, 4);
	drift_report_free(&r);
}

static void test_detach_requested(void **state)
{
	(void)state;
	fx_attached(&F, 1, 10);
	F.maps[0].state = MAPPING_DETACH_REQUESTED;
	struct drift_report r = live_drift();
	const struct drift_item *it = find(&r, DRIFT_ORPHAN, "vhost", "vhost10");

	assert_non_null(strstr(it->detail, "detach requested"));
	assert_non_null(strstr(it->next, "next pass removes it"));
	drift_report_free(&r);
}

static void test_conflict_and_foreign(void **state)
{
	(void)state;
	fx_attached(&F, 1, 10);
	fx_remove_vhost(&F, "vhost10");
	fx_obs_bdev(&F, "Malloc0", 8192);
	fx_obs_vhost(&F, 10, "Malloc0");
	fx_obs_vhost(&F, 0, "Malloc0");
	struct drift_report r = live_drift();
	const struct drift_item *it = find(&r, DRIFT_CONFLICT, "vhost", "vhost10");

	assert_non_null(strstr(it->detail, "Malloc0"));
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(it->evidence, "live"), "bdev")),
		"Malloc0");
	find(&r, DRIFT_FOREIGN, "vhost", "vhost0");
	assert_int_equal(r.n, 2);
	drift_report_free(&r);
}

static void test_raid_conflict(void **state)
{
	(void)state;
	fx_attached(&F, 1, 10);
	fx_obs_bdev(&F, "Malloc0", 32768);
	snprintf(F.rbases[0][1].name, sizeof(F.rbases[0][1].name), "Malloc0");
	struct drift_report r = live_drift();
	const struct drift_item *it = find(&r, DRIFT_CONFLICT, "raid", "raid_1");

	assert_non_null(strstr(it->detail, "Malloc0"));
	assert_int_equal(it->volume_id, 1);
	drift_report_free(&r);
}

static void test_mapping_record_lags(void **state)
{
	(void)state;
	fx_attached(&F, 1, 10);
	F.maps[0].state = MAPPING_INITIALISED;
	struct drift_report r = live_drift();
	const struct drift_item *it = find(&r, DRIFT_MISSING, "mapping", "mapping 10");

	assert_non_null(strstr(it->detail, "INITIALISED"));
	assert_non_null(strstr(it->next, "records it"));
	assert_int_equal(r.n, 1);
	drift_report_free(&r);
}

static void test_degraded_member(void **state)
{
	(void)state;
	struct volume *v = fx_attached(&F, 1, 10);
	char c1[MODEL_NAME_MAX], b1[MODEL_NAME_MAX];

	/* the second member's controller is gone, and SPDK dropped it from the raid */
	fx_ctrlr_name(v, 1, c1, sizeof(c1));
	fx_bdev_name(v, 1, b1, sizeof(b1));
	fx_remove_ctrlr(&F, c1);
	fx_remove_bdev(&F, b1);
	F.rbases[0][1].has_name = false;
	F.raids[0].operational = 1;
	struct drift_report r = live_drift();

	find(&r, DRIFT_MISSING, "controller", c1);
	assert_non_null(strstr(find(&r, DRIFT_MISSING, "member", b1)->detail, "degraded"));
	drift_report_free(&r);
}

static const char live_doc[] =
	"{\"subsystems\": ["
	" {\"subsystem\": \"bdev\", \"config\": ["
	"  {\"method\": \"bdev_nvme_set_options\", \"params\": {\"transport_retry_count\": 4}},"
	"  {\"method\": \"bdev_nvme_attach_controller\", \"params\": {\"name\": \"de_1\","
	"   \"traddr\": \"10.0.0.1\", \"trsvcid\": \"4420\", \"subnqn\": \"nqn.a\"}}]},"
	" {\"subsystem\": \"vhost_blk\", \"config\": ["
	"  {\"method\": \"vhost_create_blk_controller\", \"params\": {\"ctrlr\": \"vhost1\","
	"   \"dev_name\": \"raid_1\"}}]},"
	" {\"subsystem\": \"scsi\", \"config\": null}]}";

static void test_saved_equal(void **state)
{
	(void)state;
	struct drift_report r = {0};

	assert_int_equal(drift_saved(live_doc, "/saved.json", live_doc, &r), 0);
	assert_int_equal(r.n, 0);
	drift_report_free(&r);
}

static void test_saved_differs(void **state)
{
	(void)state;
	struct drift_report r = {0};
	/* another option value, a path SPDK no longer has, no vhost1 yet, and an extra bdev */
	const char saved[] =
		"{\"subsystems\": ["
		" {\"subsystem\": \"bdev\", \"config\": ["
		"  {\"method\": \"bdev_nvme_set_options\", \"params\": {\"transport_retry_count\": "
		"9}},"
		"  {\"method\": \"bdev_nvme_attach_controller\", \"params\": {\"name\": \"de_1\","
		"   \"traddr\": \"10.0.0.1\", \"trsvcid\": \"4420\", \"subnqn\": \"nqn.a\"}},"
		"  {\"method\": \"bdev_nvme_attach_controller\", \"params\": {\"name\": \"de_2\","
		"   \"traddr\": \"10.0.0.2\", \"trsvcid\": \"4420\", \"subnqn\": \"nqn.b\"}},"
		"  {\"method\": \"bdev_malloc_create\", \"params\": {\"name\": \"M0\"}}]}]}";
	const struct drift_item *it;

	assert_int_equal(drift_saved(saved, "/saved.json", live_doc, &r), 0);
	it = find(&r, DRIFT_REPLAY_ARTEFACT, "option", "bdev_nvme_set_options");
	assert_non_null(strstr(it->detail, "transport_retry_count"));
	assert_non_null(strstr(it->next, "restart replays the saved value"));
	it = find(&r, DRIFT_REPLAY_ARTEFACT, "controller", "de_2");
	assert_non_null(strstr(it->detail, "live SPDK does not"));
	it = find(&r, DRIFT_REPLAY_ARTEFACT, "vhost", "vhost1");
	assert_non_null(strstr(it->detail, "does not yet"));
	it = find(&r, DRIFT_REPLAY_ARTEFACT, "call", "bdev_malloc_create M0");
	assert_non_null(strstr(it->next, "never replays"));
	assert_int_equal(r.n, 4);
	drift_report_free(&r);
}

static void test_saved_evidence_joins_live_item(void **state)
{
	(void)state;
	struct drift_report r = {0};
	struct drift_item *missing = drift_add(&r, DRIFT_MISSING, "vhost", "vhost1");

	assert_non_null(missing);
	/* SPDK lost vhost1, the saved config still has it: no second item, the saved call joins */
	const char live[] = "{\"subsystems\": [{\"subsystem\": \"vhost_blk\", \"config\": []}]}";
	const char saved[] = "{\"subsystems\": [{\"subsystem\": \"vhost_blk\", \"config\": ["
			     " {\"method\": \"vhost_create_blk_controller\", \"params\":"
			     " {\"ctrlr\": \"vhost1\", \"dev_name\": \"raid_1\"}}]}]}";

	assert_int_equal(drift_saved(saved, "/s", live, &r), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(json_array_size(json_object_get(r.items[0].evidence, "saved")), 1);
	drift_report_free(&r);
}

static void test_saved_absent_or_malformed(void **state)
{
	(void)state;
	struct drift_report r = {0};

	assert_int_equal(drift_saved(NULL, "/none.json", live_doc, &r), 0);
	assert_int_equal(find(&r, DRIFT_REPLAY_ARTEFACT, "config", "/none.json")->cls,
			 DRIFT_REPLAY_ARTEFACT);
	drift_report_free(&r);
	assert_int_equal(drift_saved("{\"subsystems\": 7}", "/bad.json", live_doc, &r), 0);
	assert_non_null(
		strstr(find(&r, DRIFT_CONFLICT, "config", "/bad.json")->detail, "not an SPDK"));
	drift_report_free(&r);
	assert_int_equal(drift_saved("not json", "/bad.json", live_doc, &r), 0);
	assert_int_equal(r.n, 1);
	drift_report_free(&r);
	/* live SPDK's answer that is no config is an error, not a finding */
	assert_int_equal(drift_saved(live_doc, "/s", "[1]", &r), -EBADMSG);
	drift_report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_agreement, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_vhost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orphans_in_teardown_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detach_requested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_and_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raid_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mapping_record_lags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_degraded_member, setup, teardown),
		cmocka_unit_test(test_saved_equal),
		cmocka_unit_test(test_saved_differs),
		cmocka_unit_test(test_saved_evidence_joins_live_item),
		cmocka_unit_test(test_saved_absent_or_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
