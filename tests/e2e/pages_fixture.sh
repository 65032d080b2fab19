# A demo-like network for the board and folder tests and screenshots:
# Bibliotheek Hengelo Centrum in week 48 of 2026. Source it after lib.sh
# with P() defined; sets $centrum, $bron and the rule ids.
# Tuesday 24 November: the morning is for money matters, the afternoon is
# "werk" (the guide's example); one hour is cancelled, one moved.
centrum=$(P location add --name "Bibliotheek Hengelo Centrum" --kind branch --address "Beursstraat 29, Hengelo")
bron=$(P location add --name "Wijkcentrum De Bron" --kind community)
fb=$(P partner add --name Formulierenbrigade)
wp=$(P partner add --name "Werkplein Hengelo")
vc=$(P partner add --name "Vrijwilligerscentrale")
th=$(P partner add --name "Taalhuis Hengelo")
jl=$(P partner add --name "Juridisch Loket")
ido=$(P partner add --name "Informatiepunt Digitale Overheid")
sh=$(P partner add --name "Schuldhulpmaatje")

o_form=$(P offering add --partner "$fb" --theme geld --kind spreekuur --title "Hulp bij formulieren en toeslagen")
o_schuld=$(P offering add --partner "$sh" --theme geld --kind spreekuur --title "Geldzorgen? Praat erover")
o_vac=$(P offering add --partner "$wp" --theme werk --kind spreekuur --title "Vacaturespreekuur")
o_vrij=$(P offering add --partner "$vc" --theme werk --kind spreekuur --title "Vrijwilligerswerk vinden")
o_cv=$(P offering add --partner "$wp" --theme werk --kind workshop --title "Sollicitatiebrief & cv" --capacity 10 --signup)
o_jur=$(P offering add --partner "$jl" --theme juridisch --kind spreekuur --title "Spreekuur Juridisch Loket")
o_digid=$(P offering add --partner "$ido" --theme overheid --kind spreekuur --title "Hulp bij DigiD en de overheid")
o_taal=$(P offering add --partner "$th" --theme taal --kind oefengroep --title "Taalcafé" --capacity 12)
o_klik=$(P offering add --partner "$th" --theme digitaal --kind workshop --title "Klik & Tik: werken met de computer" --capacity 8 --signup)
o_avond=$(P offering add --partner "$th" --theme taal --kind oefengroep --title "Taalmaatjes-avond")

R() { P rule add --offering "$1" --location "$2" --rrule "$3" --start "$4" --end "$5" --from 2026-09-01 ${6:+--room "$6"}; }
r_form=$(R "$o_form" "$centrum" "FREQ=WEEKLY;BYDAY=TU,TH" 09:30 12:00 "leeshoek")
r_schuld=$(R "$o_schuld" "$centrum" "FREQ=WEEKLY;BYDAY=TU" 10:00 11:30 "huiskamer")
r_taal=$(R "$o_taal" "$centrum" "FREQ=WEEKLY;BYDAY=TU,FR" 10:00 12:00 "studieruimte 2")
r_vac=$(R "$o_vac" "$centrum" "FREQ=WEEKLY;BYDAY=TU" 13:00 16:00 "leeshoek")
r_vrij=$(R "$o_vrij" "$centrum" "FREQ=WEEKLY;BYDAY=TU" 13:30 15:30 "balie")
r_cv=$(R "$o_cv" "$centrum" "FREQ=WEEKLY;BYDAY=TU" 14:00 16:00 "studieruimte 2")
r_jur=$(R "$o_jur" "$centrum" "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU" 14:00 15:00 "huiskamer")
r_digid=$(R "$o_digid" "$centrum" "FREQ=WEEKLY;BYDAY=TU,WE" 10:00 12:00 "balie")
r_klik=$(R "$o_klik" "$centrum" "FREQ=MONTHLY;BYDAY=-1TU" 16:30 17:30 "studieruimte 1")
r_avond=$(R "$o_avond" "$centrum" "FREQ=WEEKLY;BYDAY=TU" 19:00 21:00 "studieruimte 2")
r_bron=$(R "$o_form" "$bron" "FREQ=WEEKLY;BYDAY=WE" 13:30 15:30 "")

P rule cancel "$r_jur" --date 2026-11-24 --reason "Ziek, volgende keer weer" >/dev/null
P rule move "$r_digid" --date 2026-11-24 --start 15:30 --end 17:00 --reason "Training medewerkers in de ochtend" >/dev/null
P rule move "$r_form" --date 2026-11-26 --to 2026-11-27 --start 09:30 --end 12:00 --reason "Donderdag gesloten" >/dev/null
P rule move "$r_bron" --date 2026-11-25 --start 13:30 --end 15:30 --location "$centrum" --reason "De Bron wordt geschilderd" >/dev/null
