#!/usr/bin/env bash
# Load-test the officer pages with wrk against gunicorn under production settings.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/diversion_bench \
#   REDIS_URL=redis://127.0.0.1:6379/13 benchmarks/bench_load.sh
#
# Needs wrk 4.1 (apt-get install -y wrk) and a database with a signed-in-able officer and data
# in their boroughs (seed_demo makes `officer`). Starts gunicorn with 2 workers on 127.0.0.1,
# signs the officer in (a session made under the server's settings and secret key: production
# cookies are Secure, so a plain-http client cannot collect them itself), then runs wrk with
# CONNECTIONS connections for DURATION seconds on each page in turn, and prints per page:
# requests/s, p50/p95/p99, errors (non-2xx/3xx, timeouts), requests over 1 s, and throughput
# as a share of the sign-in page's in the same run (target: at least 1/3, none over 1 s).
#
# Writes to the database what the pages themselves write: sessions, audit events, and the
# encounters the record-encounter run posts (dated yesterday, for the busiest person: up to
# RECORD_SESSIONS, DURATION x 150 by default), so run it on a copy of the benchmark database. Settings: DURATION (20), CONNECTIONS (20), THREADS (2), PORT (8765), WORKERS (2),
# OFFICER (officer), TIMEOUT (10s), PAGES (names of the pages to time; empty: all). Raw wrk
# output goes to benchmarks/output/.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?set DATABASE_URL}" "${REDIS_URL:?set REDIS_URL}"
DURATION="${DURATION:-20}"
CONNECTIONS="${CONNECTIONS:-20}"
THREADS="${THREADS:-2}"
PORT="${PORT:-8765}"
WORKERS="${WORKERS:-2}"
TIMEOUT="${TIMEOUT:-10s}"
REF_DURATION="${REF_DURATION:-10}"
PY="${PY:-.venv/bin/python}"
BASE="http://127.0.0.1:${PORT}"
OUT="benchmarks/output/load-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

export DJANGO_SETTINGS_MODULE=config.settings.production
export DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')}"
export DJANGO_ALLOWED_HOSTS=127.0.0.1 DJANGO_SECURE_SSL_REDIRECT=false DATABASE_URL REDIS_URL
# An officer searches a few times an hour; the load test posts the search thousands of times.
export SEARCHES_PER_HOUR="${SEARCHES_PER_HOUR:-100000000}"

"$PY" manage.py collectstatic --noinput -v0
# One session per encounter the record-encounter run may post, with room to spare.
RECORD_SESSIONS="${RECORD_SESSIONS:-$((DURATION * 150))}"
TARGETS="$(RECORD_SESSIONS="$RECORD_SESSIONS" RECORD_SESSIONS_FILE="$OUT/record-sessions.txt" \
  "$PY" benchmarks/load_targets.py)"
eval "$TARGETS"

"$PY" -m gunicorn config.wsgi:application --bind "127.0.0.1:${PORT}" --workers "$WORKERS" \
  --pid "$OUT/gunicorn.pid" --error-logfile "$OUT/gunicorn.log" &
GUNICORN=$!
trap 'kill "$GUNICORN" 2>/dev/null; wait "$GUNICORN" 2>/dev/null || true' EXIT
for _ in $(seq 60); do
  curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && break
  sleep 0.5
done
curl -fsS -o /dev/null "$BASE/healthz"

COOKIE="Cookie: sessionid=${SESSION_ID}; csrftoken=${CSRF_COOKIE}"
# The form as a browser posts it: the masked token from the page, the cookie's secret.
IFS=- read -r DOB_YEAR DOB_MONTH DOB_DAY <<<"$SEARCH_DOB"
SEARCH_BODY="csrfmiddlewaretoken=${CSRF_TOKEN}&last_name=$(
  "$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$SEARCH_LAST_NAME"
)&date_of_birth_0=$((10#$DOB_DAY))&date_of_birth_1=$((10#$DOB_MONTH))&date_of_birth_2=${DOB_YEAR}"

# The encounter search, by surname and date of birth (a list) and by reference (a redirect).
SEARCH_NAME_BODY="csrfmiddlewaretoken=${CSRF_TOKEN}&search-encounter_ref=&search-last_name=$(
  "$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$SEARCH_LAST_NAME"
)&search-date_of_birth_0=$((10#$DOB_DAY))&search-date_of_birth_1=$((10#$DOB_MONTH))&search-date_of_birth_2=${DOB_YEAR}"
SEARCH_REF_BODY="csrfmiddlewaretoken=${CSRF_TOKEN}&search-encounter_ref=${ENCOUNTER_REF}&search-last_name="

# Check each page answers as a signed-in officer would see it before timing it.
check() {
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "$COOKIE" "$@")
  echo "$status"
}
[ "$(check "$BASE/")" = 200 ] || { echo "The session was refused: home did not answer 200" >&2; exit 1; }
[ "$(check -X POST -d "$SEARCH_BODY" "$BASE/encounters/new/")" = 302 ] \
  || { echo "The search form post did not redirect (status $(check -X POST -d "$SEARCH_BODY" "$BASE/encounters/new/"))" >&2; exit 1; }

[ "$(check -X POST -d "$SEARCH_NAME_BODY" "$BASE/encounters/search/")" = 200 ] \
  || { echo "The encounter search by surname did not answer 200" >&2; exit 1; }
[ "$(check -X POST -d "$SEARCH_REF_BODY" "$BASE/encounters/search/")" = 302 ] \
  || { echo "The encounter search by reference did not redirect" >&2; exit 1; }

wrk_page() {  # name path body seconds [sessions file]
  LOAD_NAME="$1" LOAD_BODY="$3" LOAD_SESSIONS="${5:-}" LOAD_THREADS="$THREADS" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$4s" \
    --timeout "$TIMEOUT" --latency -s benchmarks/bench_load.lua -H "$COOKIE" "$BASE$2" \
    >"$OUT/$1.txt"
  grep '^RESULT ' "$OUT/$1.txt" >>"$OUT/results.txt"
  drain
}
# On a shared machine the load from other jobs changes from one minute to the next, so each
# page is compared with the sign-in page timed just before it (REF_DURATION seconds; 0 turns
# this off and compares every page with the one sign-in run near the start).
run() {  # name path [body] [sessions file]
  case "$1" in
    healthz | sign-in) ;;
    *)
      # PAGES="record-encounter ..." times only those pages (and the two references).
      if [ -n "${PAGES:-}" ] && [[ " $PAGES " != *" $1 "* ]]; then return 0; fi
      [ "$REF_DURATION" -gt 0 ] && wrk_page "ref:$1" /sign-in/ "" "$REF_DURATION"
      ;;
  esac
  wrk_page "$1" "$2" "${3:-}" "$DURATION" "${4:-}"
}
# gunicorn's sync workers finish requests whose client has gone: wait until the queue left by
# one page is served before timing the next, or the next page pays for it.
drain() {
  for _ in $(seq "$WORKERS"); do curl -s -m 600 -o /dev/null "$BASE/healthz" || true; done
}
: >"$OUT/results.txt"
run healthz /healthz
run sign-in /sign-in/
run officer-home /
run referrals-needing-action /referrals/needing-action/
run queue-page-2 "/referrals/needing-action/?after=${QUEUE_AFTER}"
run queue-least-overdue "/referrals/needing-action/?order=least"
run queue-appointments "/referrals/needing-action/?due=appointment"
run queue-one-borough "/referrals/needing-action/?borough=${QUEUE_BOROUGH}"
run encounter-page "$ENCOUNTER_PATH"
run person-page "$PERSON_PATH"
run new-encounter-form /encounters/new/
run new-encounter-post /encounters/new/ "$SEARCH_BODY"
run search-by-name /encounters/search/ "$SEARCH_NAME_BODY"
run search-by-ref /encounters/search/ "$SEARCH_REF_BODY"
# The rest of logging an encounter: choosing the person, the encounter form, and posting it,
# which records an encounter (and its decision) for the busiest person, one per session.
STEPS_COOKIE="Cookie: sessionid=${STEPS_SESSION_ID}; csrftoken=${CSRF_COOKIE}"
[ "$(COOKIE="$STEPS_COOKIE" check "$BASE/encounters/new/details/")" = 200 ] \
  || { echo "The encounter form did not answer 200" >&2; exit 1; }
COOKIE="$STEPS_COOKIE" run choose-person /encounters/new/choose/
COOKIE="$STEPS_COOKIE" run encounter-form /encounters/new/details/
RECORD_DATE=$("$PY" -c 'import datetime; print(datetime.date.today() - datetime.timedelta(days=1))')
IFS=- read -r REC_YEAR REC_MONTH REC_DAY <<<"$RECORD_DATE"
RECORD_BODY="csrfmiddlewaretoken=${CSRF_TOKEN}&borough=${RECORD_BOROUGH}&encounter_date_0=$((10#$REC_DAY))&encounter_date_1=$((10#$REC_MONTH))&encounter_date_2=${REC_YEAR}&encounter_time=14%3A30&location=High+Street&substance=cannabis_herbal&quantity_grams=3.5&otherwise_disposal=cannabis_warning"
# Try one (the file's last session; the run takes them from the first) before timing them.
TRY_COOKIE="Cookie: sessionid=$(tail -n 1 "$OUT/record-sessions.txt"); csrftoken=${CSRF_COOKIE}"
RECORDED=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H "$TRY_COOKIE" \
  -X POST -d "$RECORD_BODY" "$BASE/encounters/new/details/")
case "$RECORDED" in
  "302 $BASE/encounters/ENC"*) ;;
  *) echo "Posting the encounter form did not record an encounter: $RECORDED" >&2; exit 1 ;;
esac
run record-encounter /encounters/new/details/ "$RECORD_BODY" "$OUT/record-sessions.txt"

echo "Database: ${DATABASE_URL##*/}; gunicorn ${WORKERS} workers; wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION}s"
echo "Person page: ${PERSON_ENCOUNTERS} encounters; raw output in $OUT; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Command: DATABASE_URL=.../${DATABASE_URL##*/} REDIS_URL=${REDIS_URL} DURATION=${DURATION} REF_DURATION=${REF_DURATION} benchmarks/bench_load.sh"
"$PY" - "$OUT/results.txt" <<'PY'
import sys

rows = [line.split()[1:] for line in open(sys.argv[1])]
rates = {r[0]: int(r[1]) / float(r[2]) for r in rows}
sign_in = rates["sign-in"]
print(f"{'page':<26}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
      f"{'>1 s':>7}{'sign-in':>9}{'ratio':>7}  verdict")
for name, n, secs, p50, p95, p99, errors, timeouts, over, n2, n3, n4, n5, signin in rows:
    if name.startswith("ref:"):
        continue
    rate = int(n) / float(secs)
    slow = int(over) + int(timeouts)
    # The sign-in page timed just before this one (or the one near the start).
    reference = rates.get(f"ref:{name}", sign_in)
    ratio = rate / reference
    bad = int(errors) + int(signin)
    verdict = "ok" if ratio >= 1 / 3 and slow == 0 and bad == 0 else "MISSES TARGET"
    if name in ("healthz", "sign-in"):
        verdict = "reference"
    print(f"{name:<26}{rate:>8.1f}{float(p50):>9.0f}{float(p95):>9.0f}{float(p99):>9.0f}"
          f"{bad:>8}{slow:>7}{reference:>9.1f}{ratio:>7.2f}  {verdict}")
refs = [r for r in rows if r[0].startswith("ref:")]
if refs:
    over = sum(int(r[7]) + int(r[8]) for r in refs)
    total = sum(int(r[1]) for r in refs)
    print(f"sign-in timed before each page: {min(rates[r[0]] for r in refs):.1f} to "
          f"{max(rates[r[0]] for r in refs):.1f} req/s; {over} of its {total} requests over 1 s")
PY
