#!/usr/bin/env bash
# Convergence as a property (design §4, §9.1, §9.4): five sites of one
# network make random operations on shared rows — concurrent updates,
# deletes and re-inserts of day-log rows, referral status races, contact
# attempts counted at several sites, raw SQL through the sqlite3 shell —
# and sync pairwise through bare repositories in random orders, with
# repeats. Afterwards every digest is equal, every replica equals its own
# rebuild from the log (plein verify), no sync failed and nothing was
# refused, and the domain rules hold: contact attempts add up over the
# sites, a referral's status is the highest ranked one ever written, rows
# nobody deleted exist, and every day-log entry added exists once.
#
#   SEEDS=n   run seeds 1..n (default 1, as in every tools/test run); SEED=n  run that seed only
#   STEPS=n   operations and syncs per seed (default 25)
# A failing seed is printed: replay it with SEED=n.
. "$(dirname "$0")/lib.sh"

STEPS=${STEPS:-25}
if [ -n "${SEED:-}" ]; then seeds=$SEED; else seeds=$(seq 1 "${SEEDS:-1}"); fi
SITES=(co s1 s2 s3 s4)
STATUSES=(new contacted appointment done declined unreachable)
rank() { case $1 in new) echo 0 ;; contacted) echo 1 ;; appointment) echo 2 ;; *) echo 3 ;; esac; }
q() { sqlite3 "$1/plein.db" "$2"; }

# ---- one template network, copied for every seed ------------------------
tpl=$TMP/tpl
mkdir "$tpl"
plein init "$tpl/co" --new-network "Regio Eigenschap" --name co >/dev/null
plein -C "$tpl/co" card > "$tpl/card"
for s in s1 s2 s3 s4; do
	plein init "$tpl/$s" --card "$tpl/card" --name "$s" >/dev/null
	plein -C "$tpl/co" admit "$(plein -C "$tpl/$s" id)" --name "$s" --role branch --key "$(plein -C "$tpl/$s" id --key)" >/dev/null
done
L=$(plein -C "$tpl/co" location add --name Centrum --kind branch)
P=$(plein -C "$tpl/co" partner add --name "Juridisch Loket")
DAYLOGS=(); REFERRALS=()
for k in 1 2 3 4; do DAYLOGS+=("$(plein -C "$tpl/co" daylog add --location "$L" "gedeeld $k")"); done
for k in 1 2 3; do REFERRALS+=("$(plein -C "$tpl/co" referral add --to "$P" --theme werk --note "verwijzing $k")"); done
setup_ok=1
for s in "${SITES[@]}"; do plein -C "$tpl/$s" sync "$tpl/setup.git" >/dev/null 2>&1 || setup_ok=0; done
plein -C "$tpl/co" sync "$tpl/setup.git" >/dev/null 2>&1 || setup_ok=0
rm -rf "$tpl/setup.git"

t "setup: five sites of one network share 4 day-log rows and 3 referrals"
ok_if test "$setup_ok" = 1 -a "$(q "$tpl/s4" "SELECT count(*) FROM daylog") $(q "$tpl/s4" "SELECT count(*) FROM referral")" = "4 3"

# ---- one seed -------------------------------------------------------------
run_seed() {
	local seed=$1 dir=$TMP/seed$1
	RANDOM=$seed
	rm -rf "$dir"; mkdir "$dir"
	local -A deleted=() incs=() maxrank=()
	local added=() problems=() k s nsql=0 ncli=0 nsync=0
	# Copies of sites are restored sites (design §5): each seals nothing
	# until a peer has confirmed its history, so each meets one first.
	for s in "${SITES[@]}"; do cp -a "$tpl/$s" "$dir/"; done
	for s in "${SITES[@]}"; do
		plein -C "$dir/$s" sync "$dir/start.git" >"$dir/out" 2>&1 || problems+=("first sync of $s: $(tr '\n' ' ' < "$dir/out")")
	done
	for k in "${REFERRALS[@]}"; do incs[$k]=0; maxrank[$k]=0; done
	local step
	for ((step = 1; step <= STEPS; step++)); do
		local i=$((RANDOM % 5)) r=$((RANDOM % 100))
		local site=$dir/${SITES[$i]}
		local d=${DAYLOGS[$((RANDOM % ${#DAYLOGS[@]}))]} ref=${REFERRALS[$((RANDOM % ${#REFERRALS[@]}))]}
		local st=${STATUSES[$((RANDOM % 6))]}
		if ((r >= 65)); then :; elif ((r < 30 || (r >= 46 && r < 54) || r >= 60)); then nsql=$((nsql + 1)); else ncli=$((ncli + 1)); fi
		if ((r < 10)); then
			q "$site" "UPDATE daylog SET text = '${SITES[$i]} stap $step' WHERE id = '$d'"
		elif ((r < 18)); then
			q "$site" "DELETE FROM daylog WHERE id = '$d'"; deleted[$d]=1
		elif ((r < 25)); then
			q "$site" "INSERT OR IGNORE INTO daylog(id, location_id, day, author, text)
				VALUES ('$d', '$L', '2026-03-0$((step % 9 + 1))', '${SITES[$i]}', 'terug $step')"
		elif ((r < 30)); then
			q "$site" "BEGIN; DELETE FROM daylog WHERE id = '$d';
				INSERT INTO daylog(id, location_id, text) VALUES ('$d', '$L', 'opnieuw $step'); COMMIT;"
			deleted[$d]=1
		elif ((r < 39)); then
			if plein -C "$site" referral set "$ref" --status "$st" >/dev/null 2>&1; then
				(($(rank "$st") > maxrank[$ref])) && maxrank[$ref]=$(rank "$st")
			fi
		elif ((r < 46)); then
			plein -C "$site" referral attempt "$ref" >/dev/null 2>&1 && incs[$ref]=$((incs[$ref] + 1))
		elif ((r < 50)); then
			q "$site" "UPDATE referral SET status = '$st' WHERE id = '$ref'"
			(($(rank "$st") > maxrank[$ref])) && maxrank[$ref]=$(rank "$st")
		elif ((r < 54)); then
			q "$site" "UPDATE referral SET attempts = coalesce(attempts, 0) + 1 WHERE id = '$ref'"
			incs[$ref]=$((incs[$ref] + 1))
		elif ((r < 60)); then
			local id; id=$(plein -C "$site" daylog add --location "$L" "nieuw ${SITES[$i]} $step") && added+=("$id")
		elif ((r < 65)); then
			q "$site" "UPDATE partner SET phone = '053-$step$i' WHERE id = '$P'"
		else
			# Two sites meet through the relay of their pair; sometimes the
			# first comes back for what the second brought.
			local j=$(((i + 1 + RANDOM % 4) % 5)) a b
			((i < j)) && { a=$i; b=$j; } || { a=$j; b=$i; }
			local relay=$dir/relay-$a-$b.git order=("$i" "$j")
			((RANDOM % 3 == 0)) && order+=("$i")
			for k in "${order[@]}"; do
				nsync=$((nsync + 1))
				if ! plein -C "$dir/${SITES[$k]}" sync "$relay" >"$dir/out" 2>&1; then
					problems+=("step $step: sync of ${SITES[$k]} failed: $(tr '\n' ' ' < "$dir/out")")
				fi
			done
		fi
	done
	# Everyone meets at one relay, round after round, until every site
	# holds the chains the relay holds (a site whose first batch waited
	# for its peers to confirm its history sends it a round later).
	local round quiet=0
	chains() { git --git-dir "$1" for-each-ref --format='%(refname) %(objectname)' refs/plein/sites/; }
	for ((round = 1; round <= 5 && !quiet; round++)); do
		for k in 0 1 2 3 4; do
			plein -C "$dir/${SITES[$k]}" sync "$dir/final.git" >"$dir/out" 2>&1 ||
				problems+=("final sync of ${SITES[$k]} failed: $(tr '\n' ' ' < "$dir/out")")
		done
		quiet=1
		for s in "${SITES[@]}"; do [ "$(chains "$dir/$s/log.git")" = "$(chains "$dir/final.git")" ] || quiet=0; done
	done
	((quiet)) || problems+=("after 5 rounds at one relay the sites still hold different chains")
	echo "# seed $seed: the sites hold the same chains after $((round - 1)) rounds at one relay"
	echo "# seed $seed: $nsql sqlite3 writes, $ncli plein writes, $nsync pairwise syncs, ${#added[@]} rows added"
	local first=""
	for s in "${SITES[@]}"; do
		# verify prints the live digest and fails unless the rebuild equals it
		plein -C "$dir/$s" verify >"$dir/out" 2>&1 || problems+=("verify at $s: $(tr '\n' ' ' < "$dir/out")")
		local dg; dg=$(sed -n 's/^live digest: *//p' "$dir/out")
		[ -n "$dg" ] || problems+=("no digest from verify at $s")
		[ -z "$first" ] && first=$dg
		[ "$dg" = "$first" ] || problems+=("digest of $s differs: $dg vs co $first")
		local nrej; nrej=$(q "$dir/$s" "SELECT count(*) || ': ' || coalesce(group_concat(reason, ' | '), '') FROM plein_rejected")
		[ "${nrej%%:*}" = 0 ] || problems+=("refusals at $s: $nrej")
	done
	local co=$dir/co
	for k in "${REFERRALS[@]}"; do
		local got; got=$(q "$co" "SELECT coalesce(attempts, 0) || ' ' || status FROM referral WHERE id = '$k'")
		[ "${got%% *}" = "${incs[$k]}" ] || problems+=("referral $k: attempts ${got%% *}, expected ${incs[$k]} (the increments of all sites)")
		[ "$(rank "${got#* }")" = "${maxrank[$k]}" ] ||
			problems+=("referral $k: status '${got#* }', expected one of rank ${maxrank[$k]} (the highest written)")
	done
	for k in "${DAYLOGS[@]}"; do
		[ -n "${deleted[$k]:-}" ] || [ "$(q "$co" "SELECT count(*) FROM daylog WHERE id = '$k'")" = 1 ] ||
			problems+=("day-log row $k was never deleted but is gone")
	done
	for k in "${added[@]}"; do
		[ "$(q "$co" "SELECT count(*) FROM daylog WHERE id = '$k'")" = 1 ] || problems+=("added day-log row $k is missing")
	done
	if [ ${#problems[@]} -eq 0 ]; then
		rm -rf "$dir"
		return 0
	fi
	printf '# %s\n' "${problems[@]}"
	return 1
}

for seed in $seeds; do
	t "seed $seed: $STEPS random steps, then all digests equal, each verifies, the rules hold"
	if run_seed "$seed"; then pass; else fail "failing seed: $seed (replay: SEED=$seed STEPS=$STEPS)"; fi
done

done_testing
