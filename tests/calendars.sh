#!/bin/sh
# calendars.sh - every CF calendar through dsc info and dsc kmeans: the
# calendars whose dates are Gregorian dates (standard / gregorian from
# 1582-10-15 on, proleptic_gregorian, noleap / 365_day) keep every step with
# its own date; julian, all_leap / 366_day, 360_day, none and standard dates
# before 1582-10-15 are refused with one line naming the file and the
# calendar; files of different calendars in one run are refused.
# doc/data.md ("Calendars") gives the reasons.
. ./tests/testenv.sh
[ -n "$NCGEN" ] || skip_all "ncgen not found"

D="$top_srcdir/tests/data"
for c in standard proleptic noleap julian all_leap 360_day none standard_1582; do
  "$NCGEN" -k classic -o "$WORK/$c.nc" "$D/calendar_$c.cdl" || { echo "Bail out! ncgen calendar_$c.cdl"; exit 1; }
done
# the CF synonyms: the same files with the other name
synonym() {
  sed -e "s/calendar = \"$2\"/calendar = \"$3\"/" "$D/calendar_$1.cdl" > "$WORK/$3.cdl" &&
    "$NCGEN" -k classic -o "$WORK/$3.nc" "$WORK/$3.cdl" || { echo "Bail out! ncgen $3.cdl"; exit 1; }
}
synonym standard standard gregorian
synonym noleap noleap 365_day
synonym all_leap all_leap 366_day

. "$top_srcdir/tests/info_helpers.sh"

# ---- calendars that are read: the number of steps and their dates ----
for c in standard gregorian; do
  check_info "$c calendar keeps 29 February 2004" 2 time.count=5 time.first=2004-02-27T00:00:00 \
    time.last=2004-03-02T00:00:00 time.step_hours=24 time.calendar=standard -- "$WORK/$c.nc"
done
check_info "proleptic_gregorian in 1900 (no 29 February)" 2 time.count=5 time.first=1900-02-27T00:00:00 \
  time.last=1900-03-03T00:00:00 time.step_hours=24 time.calendar=proleptic_gregorian -- "$WORK/proleptic.nc"
for c in noleap 365_day; do
  check_info "$c in a leap year: 5 steps, 28 February to 1 March is no gap" 2 time.count=5 \
    time.first=2004-02-27T00:00:00 time.last=2004-03-03T00:00:00 time.step_hours=24 time.calendar=noleap \
    -- "$WORK/$c.nc"
done
for c in standard proleptic noleap; do
  check_twin "cftime gives the same dates for the $c file" "$WORK/$c.nc"
done
check_info "--time-range in the standard calendar: 29 February and 1 March" 2 time.count=2 \
  time.first=2004-02-29T00:00:00 time.last=2004-03-01T00:00:00 -- --time-range 2004-02-29/2004-03-01 "$WORK/standard.nc"
check_info "--time-range in the noleap calendar: 28 February and 1 March, one day apart" 2 time.count=2 \
  time.first=2004-02-28T00:00:00 time.last=2004-03-01T00:00:00 time.step_hours=24 \
  -- --time-range 2004-02-28/2004-03-01 "$WORK/noleap.nc"
check_info "--daily-mean in the noleap calendar keeps the 5 days" 2 time.count=5 time.daily_mean=true \
  time.first=2004-02-27T00:00:00 time.last=2004-03-03T00:00:00 -- --daily-mean "$WORK/noleap.nc"
check_info "standard and proleptic_gregorian files together" 2 time.count=10 time.first=1900-02-27T00:00:00 \
  time.last=2004-03-02T00:00:00 time.calendar=proleptic_gregorian "warning=1 gaps in the time steps" \
  -- "$WORK/standard.nc" "$WORK/proleptic.nc"

# a command that writes the dates: labels.csv of dsc kmeans
for c in standard noleap; do
  case $c in
    standard) dates="2004-02-27 2004-02-28 2004-02-29 2004-03-01 2004-03-02" ;;
    noleap) dates="2004-02-27 2004-02-28 2004-03-01 2004-03-02 2004-03-03" ;;
  esac
  rm -rf "$WORK/km"
  : > "$WORK/log"
  if run_np 2 "$DSC" kmeans -k 2 --n-init 1 -o "$WORK/km" "$WORK/$c.nc" > "$WORK/log" 2>&1; then
    got=$(sed -n '2,$s/T00:00:00,[0-9]*$//p' "$WORK/km/labels.csv" | tr '\n' ' ')
    if [ "$got" = "$dates " ]; then pass "dsc kmeans labels.csv: the 5 $c dates"
    else echo "labels.csv dates: $got; expected $dates" > "$WORK/log"; fail "dsc kmeans labels.csv: the 5 $c dates"; fi
  else
    fail "dsc kmeans on the $c file"
  fi
done

# ---- calendars that are refused: one line naming the file and the calendar ----
MPI2=$(echo "$TESTMPIRUN" | sed "s/NP/2/")
E2() { _d=$1; _re=$2; shift 2; expect_error "$_d" "$_re" $MPI2 "$DSC" info "$@"; }
E2 "julian is refused" "julian\\.nc: calendar 'julian' is not supported" "$WORK/julian.nc"
E2 "all_leap is refused" "all_leap\\.nc: calendar 'all_leap' is not supported" "$WORK/all_leap.nc"
E2 "366_day is refused" "366_day\\.nc: calendar '366_day' is not supported" "$WORK/366_day.nc"
E2 "360_day is refused" "360_day\\.nc: calendar '360_day' is not supported.*30 February" "$WORK/360_day.nc"
E2 "none is refused" "none\\.nc: calendar 'none' gives the time steps no dates" "$WORK/none.nc"
E2 "standard dates before 1582-10-15 are refused" \
  "standard_1582\\.nc: time step 0 is 1582-10-03T00:00:00, before 1582-10-15" "$WORK/standard_1582.nc"
E2 "noleap and standard files together are refused" \
  "standard\\.nc: calendar 'standard' differs from calendar 'noleap' of .*noleap\\.nc" "$WORK/noleap.nc" \
  "$WORK/standard.nc"
E2 "360_day after a standard file is refused" "360_day\\.nc: calendar '360_day' is not supported" \
  "$WORK/standard.nc" "$WORK/360_day.nc"
rm -rf "$WORK/km"
expect_error "dsc kmeans refuses 360_day" "360_day\\.nc: calendar '360_day'" $MPI2 "$DSC" kmeans -k 2 -o "$WORK/km" \
  "$WORK/360_day.nc"
check "dsc kmeans leaves no output behind for 360_day" sh -c "! ls '$WORK/km'/* 2> /dev/null | grep -q ."
tap_done
