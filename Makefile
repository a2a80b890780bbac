# Makefile for trackly_history, built with PGXS:
#   make && make install          build and install (PG_CONFIG=... to choose)
#   make installcheck             pg_regress and isolation suites (needs a server)
#   make unit | fuzz | difftest   the pure C suites: validators, JSON reader (no server)
#   make e164-table               regenerate src/e164_table.c from libphonenumber

EXTENSION   = trackly_history
MODULE_big  = trackly_history
OBJS        = src/trackly_history.o src/auth.o \
              src/import_text.o src/import_jsonb.o src/import_staged.o src/import_run.o \
              src/import_validate.o src/import_lists.o src/import_write.o src/import_id.o \
              src/import_audit.o src/import_response.o src/import_citus.o \
              src/import_record.o src/support.o src/history.o src/report.o src/report_counts.o \
              src/e164.o src/e164_table.o src/iso8601.o src/json_scan.o
DATA        = $(wildcard sql/trackly_history--*.sql)
PGFILEDESC  = "trackly_history - bulk import of SMS send history"

REGRESS        = validators import_example import_request import_records \
                 import_duplicates import_save_error import_body import_text import_staged history report report_property upgrade
ISOLATION      = import_concurrency import_concurrency_checked \
                 import_converge import_converge_checked import_staged_concurrency \
                 clear_concurrency report_concurrency
ISOLATION_OPTS = --inputdir=test/isolation

PG_CONFIG ?= pg_config
WERROR    ?=
PG_CFLAGS  = -Wall -Wextra $(if $(WERROR),-Werror)
# PostgreSQL's headers are not -Wextra clean: read them as system headers.
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server)

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Every object depends on every header (PGXS tracks none).
$(OBJS): $(wildcard src/*.h)

# ---------------------------------------------------------------------------
# The pure C cores alone (the validators, the JSON reader): unit tests,
# differential tests, fuzzers, benchmark.
# Everything they build goes to $(BUILD), an ignored folder of the checkout.
# ---------------------------------------------------------------------------
BUILD        ?= .run/build
PYTHON       ?= /usr/bin/python3
FUZZ_SECONDS ?= 30
VALIDATORS    = src/e164.c src/e164_table.c src/iso8601.c
VALIDATOR_H   = src/e164.h src/e164_table.h src/iso8601.h
TEST_CFLAGS   = -std=c11 -O2 -g -Wall -Wextra $(if $(WERROR),-Werror) -Isrc -Itest/unit -Itest/diff
FUZZ_CC      ?= clang
FUZZ_CFLAGS   = -g -O1 -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

.PHONY: unit fuzz difftest bench-c e164-table

$(BUILD):
	mkdir -p $@

$(BUILD)/test_%: test/unit/test_%.c test/unit/unit.h $(VALIDATORS) $(VALIDATOR_H) | $(BUILD)
	gcc $(TEST_CFLAGS) -o $@ $< $(VALIDATORS)

$(BUILD)/validate: test/diff/validate.c $(VALIDATORS) $(VALIDATOR_H) | $(BUILD)
	gcc $(TEST_CFLAGS) -o $@ $< $(VALIDATORS)

$(BUILD)/json_scan_cli: test/diff/json_scan_cli.c test/diff/json_canon.h src/json_scan.c src/json_scan.h | $(BUILD)
	gcc $(TEST_CFLAGS) -o $@ $< src/json_scan.c

$(BUILD)/bench_validators: test/bench/bench_validators.c $(VALIDATORS) $(VALIDATOR_H) | $(BUILD)
	gcc $(TEST_CFLAGS) -O3 -o $@ $< $(VALIDATORS)

$(BUILD)/fuzz_%: test/fuzz/fuzz_%.c $(VALIDATORS) $(VALIDATOR_H) | $(BUILD)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(VALIDATORS)

$(BUILD)/fuzz_json_scan: test/fuzz/fuzz_json_scan.c test/diff/json_canon.h src/json_scan.c src/json_scan.h | $(BUILD)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Itest/diff -o $@ $< src/json_scan.c

unit: $(BUILD)/test_e164 $(BUILD)/test_iso8601
	$(BUILD)/test_e164
	$(BUILD)/test_iso8601

# The committed table is what the generator writes from this machine's
# metadata (the generator also checks its automata against Python's re).
difftest: $(BUILD)/validate $(BUILD)/json_scan_cli
	$(PYTHON) src/e164_table.py | cmp -s - src/e164_table.c || \
		{ echo "src/e164_table.c is not what src/e164_table.py writes: make e164-table"; exit 1; }
	$(PYTHON) test/diff/e164_diff.py $(BUILD)/validate
	$(PYTHON) test/diff/iso8601_diff.py $(BUILD)/validate
	$(PYTHON) test/diff/json_scan_diff.py $(BUILD)/json_scan_cli

# Each fuzzer runs FUZZ_SECONDS; new inputs go to $(BUILD), seeds stay as they are.
fuzz: $(BUILD)/fuzz_e164 $(BUILD)/fuzz_iso8601 $(BUILD)/fuzz_json_scan
	for t in e164 iso8601 json_scan; do \
		mkdir -p $(BUILD)/corpus_$$t && \
		$(BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(BUILD)/crash_$$t- $(BUILD)/corpus_$$t test/fuzz/seeds/$$t || exit 1; \
	done

bench-c: $(BUILD)/bench_validators
	$(BUILD)/bench_validators

e164-table:
	$(PYTHON) src/e164_table.py > src/e164_table.c.new
	mv src/e164_table.c.new src/e164_table.c
