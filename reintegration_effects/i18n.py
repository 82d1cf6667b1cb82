"""Every word the report shows, in Dutch (``nl``, the default) and English (``en``).

One dict per language with the same keys (a test checks that, and that both use the same
``{placeholders}``). Texts are short Markdown: ``*emphasis*`` and ``**bold**`` are rendered in the
HTML and in the PDF. Labels of register categories use the Dutch register terms (bijstand, WW,
uitstroom, herinstroom, bijstand met werk) in the Dutch report and explain them in the English one.

:class:`Translator` looks texts up and formats numbers, dates and the contract's labels
(``sex=F``, ``stock_2016-01-01``, ``programme=job_coaching``) for one language.
"""

from __future__ import annotations

import math
import re

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"

NL: dict[str, str] = {
    # ---------------------------------------------------------------- report frame
    "report.title": "Bijstand en re-integratie",
    "report.subtitle": "Wat gebeurt er met mensen in de bijstand, en welke re-integratietrajecten werken voor wie?",
    "report.municipality": "Gemeente {municipality}",
    "report.municipality_unknown": "Gemeente (naam niet opgegeven)",
    "report.window": "Gegevens van {start} tot en met {end}",
    "report.date": "Rapportdatum: {date}",
    "report.version": "Gemaakt met reintegration_effects {version}",
    "report.toc": "Inhoudsopgave",
    "report.figure": "Figuur",
    "report.table": "Tabel",
    "report.appendix": "Bijlage",
    "report.simulated": "Let op: dit rapport is gemaakt op **gesimuleerde gegevens** (de voorbeeldgemeente), niet op gegevens van echte personen.",
    "report.disclosure_short": "Alle aantallen zijn afgerond op 5; cellen met minder dan 10 personen zijn afgeschermd (x).",
    "report.suppressed": "x",
    "report.not_available": "Dit onderdeel ontbreekt in deze run (tabel {tables} niet gevonden).",
    "report.skipped": "Niet (volledig) berekend in deze run, omdat er te weinig gegevens zijn ({tables}). Uit het logboek van de run: {reason}",
    "report.all_suppressed": "In {tables} is elke cel afgeschermd (minder dan 10 personen): er valt hier niets te tonen.",
    "report.nothing_to_show": "Geen figuur: elk punt ervan is afgeschermd (minder dan 10 personen).",
    "report.part_failed": "Dit onderdeel kon niet worden gemaakt: {error}",
    "report.footer": "Rapport gemaakt met reintegration_effects {version}. Alle getallen komen uit de beveiligde tabellen in de map tables/ en zijn door de geheimhoudingscontrole gegaan.",
    "report.select_cohort": "Cohort",
    "report.select_dimension": "Uitsplitsing",
    "report.all_groups": "alle uitsplitsingen",
    "report.months": "maanden",
    "report.months_since_start": "Maanden sinds het begin van de uitkering",
    "report.months_since_exit": "Maanden sinds de uitstroom",
    "report.share": "Aandeel",
    "report.persons": "Personen",
    "report.horizon": "Na {h} maanden",
    "report.hover_persons": "{n} personen",
    "report.hover_spells": "{n} uitkeringsperioden",
    "report.suppressed_mark": "x = afgeschermd",
    "report.suppressed_part": "afgeschermd",
    "report.n_persons": "Aantal personen",
    "report.spells": "Uitkeringsperioden",
    "report.interval_cut": "Een pijl aan de rand van de as: het interval loopt verder (kleine groep).",
    "report.approx": "circa {value}",
    "report.fewer_than_10": "minder dan 10",
    "report.status": "Status",
    "dashboard.findings_title": "In gewone woorden",
    "dashboard.findings_note": "Alle trajecten voor iedereen, en daarna de doelgroepen waarvoor het interval helemaal boven of onder nul ligt. Effect op de kans om van maand 6 tot en met 18 na de start niet in de bijstand te zitten (DML).",
    "effects.term": "Kenmerk",
    "effects.intercept": "referentiegroep",
    "effects.blp_caption": "Voor wie werkt een traject beter? Verschil in effect per kenmerk, alle kenmerken tegelijk (procentpunten)",
    "effects.blp_note": "Beste lineaire benadering van het effect op duurzame uitstroom onder de deelnemers: de eerste rij is het effect voor de referentiegroep ({reference}), de andere rijen het verschil daarmee voor mensen met dat kenmerk, bij gelijke andere kenmerken. **Vet**: het interval ligt helemaal boven of onder nul.",
    "effects.rv": "Robuustheidswaarde",
    "effects.bounds": "Bereik bij een verborgen factor van {strength}",
    "effects.sensitivity_caption": "Hoe gevoelig zijn de effecten voor een niet-waargenomen verschil tussen deelnemers en anderen?",
    "effects.sensitivity_note": "De robuustheidswaarde is hoe sterk een niet-waargenomen factor (bijvoorbeeld motivatie) zou moeten samenhangen met zowel deelname als uitkomst (aandeel verklaarde resterende variatie) om het betrouwbaarheidsinterval nul te laten bevatten; 0% betekent dat het interval nul al bevat. Het bereik is het effect inclusief onzekerheid als zo'n factor van de genoemde sterkte bestaat (Chernozhukov e.a. 2022).",
    "effects.policy_caption": "Welk traject voor welke groep? Een eenvoudige toewijzingsregel (beslisboom met twee splitsingen)",
    "effects.policy_note": "Per groep het traject met het grootste geschatte effect op duurzame uitstroom (of geen traject), het effect daarvan tegenover geen traject, en de verwachte winst per persoon-maand tegenover de huidige toewijzing (procentpunten, 95%-interval). Een verkenning, geen advies: de intervallen zijn breed.",
    "effects.recommended": "Traject volgens de regel",
    "effects.no_programme": "geen traject",
    "effects.policy_total": "de hele regel",
    "effects.policy_effect": "Effect t.o.v. geen traject",
    "effects.policy_gain": "Winst t.o.v. nu",
    "effects.calibration_caption": "Klopt de voorspelde verscheidenheid in effecten? Effect per kwartiel van het voorspelde effect",
    "effects.calibration_note": "Deelnemers zijn naar hun voorspelde effect in vier groepen verdeeld (Q1 laagste, Q4 hoogste); per groep het geschatte effect (procentpunten). De helling is 1 als de voorspellingen kloppen en 0 als ze niets zeggen over het werkelijke effect.",
    "effects.slope": "Helling (95%-interval)",
    "typology.reentry_table_note": "Aandeel dat binnen 6, 12 of 18 maanden na het einde van de uitkering een nieuwe bijstandsuitkering begint, met 95%-betrouwbaarheidsinterval (Wilson); x = afgeschermd.",
    "survival.median": "Mediaan (maanden)",
    "survival.medians_note": "De helft van de uitkeringen in de groep duurt korter, de helft langer (Kaplan-Meier met linkse afknotting), met 95%-interval.",
    "report.use_menu": "Kies in het menu boven de figuur een andere uitsplitsing.",
    "report.use_menu_programme": "Kies in het menu boven de figuur een ander traject.",
    "survival.rec_control": "als controlevariabele: stratificeren; als het effect zelf telt: effect per duurklasse",
    "survival.rec_programme": "effect laten afhangen van de tijd sinds de start (tijdens en na het traject)",
    "flows.kind.outflow": "Uitstroomcohorten",
    "flows.kind.stock": "Bestandscohorten",
    "dashboard.flow_table_caption_html": "Status van het gekozen cohort na {horizons} maanden (aantal personen en aandeel)",
    "effects.before": "vóór correctie",
    "effects.after": "na correctie",
    "survival.hr_time_varying": "Hazard ratio vanaf de start (juist)",
    "survival.hr_ever": "Hazard ratio 'ooit deelgenomen' (vertekend)",
    "survival.immortal_caption": "Uitstroom naar werk en trajecten: tijdsafhankelijke term tegenover 'ooit deelgenomen'",
    "survival.immortal_note": "Hazard ratio met 95%-interval. Beide uit hetzelfde model; alleen de manier waarop deelname meetelt verschilt.",
    "survival.medians_caption": "Mediane duur van een bijstandsuitkering per doelgroep (maanden)",
    "covariate.age_sq": "leeftijd (kwadraat)",
    "covariate.log_spell_month": "uitkeringsduur (log)",
    "covariate.side_job_before": "werk naast de bijstand (maand ervoor)",
    # ---------------------------------------------------------------- chapters
    "chapter.dashboard": "Overzicht",
    "chapter.data": "Gegevens en bewerking",
    "chapter.flows": "Waar zijn mensen na 6, 12 en 18 maanden?",
    "chapter.typology": "Typen bijstandsontvangers, herinstroom en de eerste baan",
    "chapter.careers": "Loopbanen na uitstroom naar werk",
    "chapter.survival": "Hoe lang duurt de bijstand, en wie komt terug?",
    "chapter.benchmark": "De eigen gemeente naast de andere",
    "benchmark.intro": "Hoe doet de gemeente het vergeleken met andere gemeenten? Een kale vergelijking misleidt als gemeenten verschillen in wie er in de bijstand zit. Daarom staat naast elke uitkomst wat je zou **verwachten** met deze bevolking (leeftijd, geslacht, migratieachtergrond, opleiding, huishouden, duur in de bijstand) als de gemeente werkte zoals het gemiddelde van alle vergeleken gemeenten (indirecte standaardisatie). Het verschil waargenomen min verwacht is het deel dat de samenstelling niet verklaart.",
    "benchmark.absent": "Er is geen vergelijking met andere gemeenten: de tabel benefits heeft geen kolom municipality (de CBS-code van de betalende gemeente), of er staat maar één gemeente in.",
    "benchmark.funnel_caption": "Waargenomen min verwacht per gemeente, naar aantal personen ({indicator})",
    "benchmark.funnel_note": "Trechterdiagram (Spiegelhalter 2005): de stippellijnen zijn de grenzen waarbinnen 95% en 99,8% van de gemeenten zou vallen als ze alleen door toeval van het gemiddelde verschilden. Kleine gemeenten liggen van nature verder van nul. De eigen gemeente is gemarkeerd.",
    "benchmark.ranking_caption": "Gemeenten gerangschikt naar waargenomen min verwacht, met 95%-interval",
    "benchmark.ranking_note": "Let op: rangnummers zijn onzeker. Het interval van de rang (bootstrap) laat zien hoeveel plaatsen een gemeente kan opschuiven; gemeenten waarvan de intervallen overlappen, zijn niet duidelijk verschillend. Gemeenten en uitkomsten met te weinig personen zijn niet getoond.",
    "benchmark.indicator": "Uitkomst",
    "benchmark.municipality": "Gemeente",
    "benchmark.observed": "Waargenomen",
    "benchmark.expected": "Verwacht",
    "benchmark.difference": "Verschil",
    "benchmark.rank": "Rang [interval]",
    "benchmark.own": "eigen gemeente",
    "benchmark.outflow_to_work": "uitstroom naar werk binnen 12 maanden",
    "benchmark.sustainable_outflow": "duurzame uitstroom (werk, geen bijstand na 12 maanden)",
    "benchmark.reentry_12m": "terugkeer in de bijstand binnen 12 maanden",
    "benchmark.median_duration": "mediane duur tot uitstroom (maanden)",
    "benchmark.persons": "Personen",
    "benchmark.x_label": "personen x peildata (een persoon telt op elke peildatum waarop hij bijstand had)",
    "benchmark.y_label": "waargenomen min verwacht (procentpunt)",
    "chapter.effects": "Welk traject werkt voor wie?",
    "chapter.methods": "Methoden",
    "nav.dashboard": "Overzicht",
    "nav.data": "Gegevens",
    "nav.flows": "Stromen",
    "nav.typology": "Typen en banen",
    "nav.careers": "Loopbanen",
    "nav.survival": "Duur en herinstroom",
    "nav.effects": "Effecten",
    "nav.benchmark": "Vergelijking",
    "nav.methods": "Methoden",
    # ---------------------------------------------------------------- dashboard
    "dashboard.intro": "Dit rapport beschrijft wat er gebeurt met mensen in de bijstand in {municipality}: waar ze 6, 12 en 18 maanden later zijn, hoe duurzaam de uitstroom naar werk is, wie terugkomt in de bijstand (herinstroom), en welke re-integratietrajecten voor welke groepen het verschil maken. Deze eerste pagina vat de belangrijkste uitkomsten samen; de hoofdstukken daarna geven de details en de methoden.",
    "dashboard.kpi_stock": "personen in de bijstand op {date}",
    "dashboard.kpi_work": "van wie in {year} uitstroomde, werkt {h} maanden later zonder bijstand",
    "dashboard.kpi_reentry": "van wie in {year} uitstroomde, zit binnen {h} maanden weer in de bijstand (herinstroom)",
    "dashboard.kpi_median": "maanden duurt een bijstandsuitkering in de helft van de gevallen minstens (mediaan)",
    "dashboard.kpi_programmes": "onderzochte trajecten met een aantoonbaar positief effect op de duurzame uitstroom",
    "dashboard.flow_table_caption": "Status van het {cohort} na {horizons} maanden (aantal personen en aandeel)",
    "dashboard.flow_table_note": "Aantallen afgerond op 5; x = afgeschermd (minder dan 10 personen, of afgeschermd om een andere cel te beschermen). Aandelen zijn aandelen van het hele cohort (eerste rij).",
    "dashboard.sankey_caption": "Stromen tussen 6, 12 en 18 maanden na het begin: {cohort}",
    "dashboard.sankey_note": "De breedte van een stroom is het aantal personen met dat pad; de blokken hebben de aantallen uit de tabel hiernaast. Paden van minder dan 10 personen zijn niet afzonderlijk getekend (in de interactieve versie: samen, grijs).",
    "dashboard.outflow_caption": "Aandeel nog in de bijstand naar duur van de uitkering",
    "dashboard.outflow_note": "Kaplan-Meier-schatting per uitkeringsperiode, met 95%-betrouwbaarheidsband voor het totaal. Uitkeringen die vóór de onderzoeksperiode begonnen, tellen mee vanaf hun duur bij het begin van de periode (linkse afknotting).",
    "dashboard.reentry_caption": "Herinstroom: aandeel weer in de bijstand naar tijd sinds de uitstroom",
    "dashboard.reentry_note": "Kaplan-Meier-schatting van de kans op herinstroom, naar bestemming bij uitstroom.",
    "dashboard.programme_caption": "Welk traject werkt voor wie? Effect op duurzame uitstroom (geen bijstand in maand 6 tot en met 18 na de start), in procentpunten",
    "dashboard.programme_note": "Per doelgroep (rij) en traject (kolom): het geschatte effect van nu starten met het traject in plaats van (nog) niet, op het aandeel dat van maand 6 tot en met 18 na de start niet in de bijstand zit (dubbel robuuste schatting, DML), met het 95%-betrouwbaarheidsinterval tussen haken en het aantal deelnemers (n). **Vet**: een aantoonbaar effect. Voor alle deelnemers: het interval ligt helemaal boven of onder nul. Voor een doelgroep bovendien na correctie voor het aantal onderzochte groepen (false discovery rate 5%, Benjamini en Hochberg 1995) en alleen bij minstens {min_n} deelnemers: bij zoveel vergelijkingen zijn enkele 'significante' uitkomsten anders door toeval te verwachten. Groepen met minder dan 10 deelnemers zijn niet getoond (x).",
    "dashboard.programme_row": "Doelgroep",
    # ---------------------------------------------------------------- data
    "data.intro": "Dit hoofdstuk laat zien op welke gegevens het rapport rust: de onderzoeksperiode, de ingelezen bestanden (met hun vingerafdruk), wat er bij het inlezen is gecontroleerd, welke tabellen de run schreef en met welke software. De regels voor geheimhouding staan in bijlage A. Het rapport leest uitsluitend de beveiligde tabellen in de map `tables/`; de gegevens van personen zelf komen er niet in.",
    "data.settings_caption": "Instellingen van deze run",
    "data.setting": "Instelling",
    "data.value": "Waarde",
    "data.municipality": "Gemeente",
    "data.window": "Onderzoeksperiode",
    "data.seed": "Startwaarde toevalsgenerator (seed)",
    "data.horizons": "Horizonnen (maanden)",
    "data.language": "Taal",
    "data.simulated": "Gesimuleerde gegevens",
    "data.yes": "ja",
    "data.no": "nee",
    "data.inputs_caption": "Ingelezen bestanden met hun vingerafdruk (SHA-256, eerste 16 tekens)",
    "data.file": "Bestand",
    "data.bytes": "Grootte (bytes)",
    "data.hash": "SHA-256",
    "data.cleaning_caption": "Controle bij het inlezen: behouden, samengevoegde en afgewezen regels per bestand",
    "data.cleaning_note": "Elke ingelezen regel is geteld. Afgewezen regels zijn niet gebruikt; de reden staat erbij.",
    "data.table": "Tabel",
    "data.outcome": "Uitkomst",
    "data.reason": "Reden",
    "data.rows": "Regels",
    "data.outcome.kept": "behouden",
    "data.outcome.merged": "samengevoegd",
    "data.outcome.rejected": "afgewezen",
    "data.reason.valid": "geldige regels behouden",
    "data.reason.duplicates": "volledig gelijke regels samengevoegd tot één",
    "data.reason.unlinked": "person_id komt niet voor in persons (study.unlinked = 'reject')",
    "data.reason.rinpersoons": "rinpersoons is niet 'R': niet te koppelen aan de basisregistratie personen",
    "data.reason.no_file": "geen bestand: lege tabel",
    "data.reason.contiguous": "aansluitende uitkeringsperiodes van dezelfde uitkering samengevoegd",
    "data.reason.dropped_columns": "onbekende kolom(men) weggelaten: {columns}",
    "data.reason.window": "onderzoeksperiode {start} tot en met {end} ({source})",
    "data.reason.window_unknown": "onderzoeksperiode onbekend: geen datums in study.toml of in de tabellen met periodes",
    "data.source.file": "uit {file}",
    "data.source.partly": "deels uit {file}, deels uit de datums van de periodes",
    "data.source.spells": "uit de datums van de periodes, afgerond op hele maanden",
    "data.tables_caption": "Beveiligde tabellen waarop dit rapport rust",
    "data.table_file": "Tabel",
    "data.table_rows": "Regels",
    "data.table_missing": "ontbreekt",
    "data.tables_note": "Ontbrekende tabellen zijn in deze run niet gemaakt; de bijbehorende onderdelen van het rapport ontbreken.",
    "data.disclosure_title": "Geheimhouding",
    "data.disclosure": "Alle cijfers in dit rapport hebben de geheimhoudingscontrole van het pakket doorstaan, volgens de regels voor uitvoer uit de Remote Access-omgeving van het CBS: elke gepubliceerde cel rust op minstens 10 personen; aantallen zijn afgerond op een veelvoud van 5; een cel die uit rij- of kolomtotalen terug te rekenen is, wordt ook afgeschermd (secundaire geheimhouding); aandelen hebben een noemer van minstens 10 personen; kwantielen (zoals het mediane loon) rusten op minstens 100 personen en nooit op het kleinste of grootste bedrag; figuren tonen alleen groepsgemiddelden en aandelen, nooit individuele personen; modeluitkomsten hebben minstens 10 vrijheidsgraden. Afgeschermde cellen staan als *x* in de tabellen.",
    "data.versions_caption": "Softwareversies",
    "data.package": "Pakket",
    "data.version": "Versie",
    # ---------------------------------------------------------------- flows
    "flows.intro": "Een **bestandscohort** bestaat uit iedereen die op een peildatum (1 januari) bijstand ontvangt; een **uitstroomcohort** uit iedereen die in een kalenderjaar uit de bijstand is gegaan. Voor beide is de status 6, 12 en 18 maanden later bepaald: *bijstand*, *werk* (zonder bijstand), *bijstand met werk* (bijstand naast een baan), *WW*, of *overig* (bijvoorbeeld een andere uitkering, studie, of zonder inkomen).",
    "flows.outflow_caption": "Uitstroomcohorten: status na {h} maanden",
    "flows.stock_caption": "Bestandscohorten: status na {h} maanden",
    "flows.cohort": "Cohort",
    "flows.bars_caption": "{kind}: status na {horizons} maanden per cohort (aantal personen)",
    "flows.groups_caption": "Status na {h} maanden naar doelgroep: {cohort}",
    "participation.absent": "**Participatie naast betaald werk** is in deze run niet gemeten: de invoermap had geen tabel `participation` (de eigen registratie van de gemeente, bijvoorbeeld de participatieladder, met vrijwilligerswerk, scholing, mantelzorg, sociale activering of overige activiteiten). Voeg `participation.csv` toe om hier naast de uitstroom te zien hoeveel mensen meedoen, en om de effecten van de programma's op participatie te schatten.",
    "participation.no_cohort": "De participatietabel is aanwezig, maar er is geen bestandscohort met een follow-up binnen de onderzoeksperiode (of elke cel is afgeschermd).",
    "participation.intro": "**Participatie naast betaald werk.** Veel mensen in de bijstand staan ver van werk; de gemeente stuurt dan ook op meedoen: vrijwilligerswerk, scholing, mantelzorg of sociale activering. De tabel zet voor het bestandscohort het aandeel dat aan het werk is naast het aandeel dat op dezelfde datum aan een activiteit deelneemt (volgens de registratie van de gemeente). Iemand kan meer activiteiten tegelijk doen: 'een activiteit' telt zo iemand één keer.",
    "participation.caption": "Werk en participatie na 6, 12 en 18 maanden: {cohort} (aandeel van het cohort)",
    "participation.note": "Aandelen van het hele cohort, berekend uit de afgeronde aantallen. Werk = status werk (zonder bijstand); uit de bijstand = werk, WW of overig. Een x: afgeschermd (minder dan 10 personen, of om een andere cel te beschermen). Naar doelgroep en naar status op de peildatum: tabel participation.csv.",
    "participation.horizon": "Na",
    "participation.effects_absent": "Effecten op **participatie** (deelnemen aan vrijwilligerswerk, scholing, mantelzorg of sociale activering 18 maanden na de start) zijn niet geschat: de invoer had geen tabel `participation`.",
    "participation.effects_intro": "De tabellen hierboven tonen ook de effecten op **participatie**: het verschil in het aandeel dat 18 maanden na de start aan een activiteit deelneemt (*participeert*) of vrijwilligerswerk doet, volgens de registratie van de gemeente. Een programma dat weinig aan werk verandert, kan wel meer mensen laten meedoen.",
    "participation.in_work": "Werk",
    "participation.off_bijstand": "Uit de bijstand",
    "participation.activity.any": "Een activiteit",
    "participation.activity.volunteering": "Vrijwilligerswerk",
    "participation.activity.education": "Scholing",
    "participation.activity.informal_care": "Mantelzorg",
    "participation.activity.social_activation": "Sociale activering",
    "participation.activity.other": "Overig",
    "flows.groups_note": "Aantal personen per doelgroep, afgerond op 5. Een x staat voor een afgeschermde cel (minder dan 10 personen, of afgeschermd om een andere cel te beschermen): het aantal is onbekend en zit niet in de balk.",
    # ---------------------------------------------------------------- typology
    "typology.intro": "Elk cohortlid krijgt één type op grond van de 18 maanden na het begin: **continu in de bijstand** (alleen bestandscohorten), **duurzaam uitgestroomd naar werk** (na de uitstroom steeds aan het werk zonder bijstand), **kortdurend uitgestroomd** (weer in de bijstand binnen de periode), **uitgestroomd, niet duurzaam naar werk** (niet terug in de bijstand, maar ook niet steeds aan het werk) en **recidivist** (twee of meer keer herinstroom in de onderzoeksperiode).",
    "typology.types_caption": "Typen per cohort (aantal personen)",
    "typology.profile_caption": "Kenmerken per type: {cohort} (aandeel binnen het type)",
    "typology.profile_note": "Percentages binnen elk type per kenmerk, berekend op de getoonde aantallen; x = afgeschermd.",
    "typology.group": "Kenmerk",
    "typology.reentry_caption": "Herinstroom binnen {h} maanden na de uitstroom, per uitstroomcohort en bestemming",
    "typology.reentry_note": "Aandeel dat binnen {h} maanden na het einde van de uitkering een nieuwe bijstandsuitkering begint, met 95%-betrouwbaarheidsinterval (Wilson).",
    "typology.reentry_table_caption": "Herinstroom na uitstroom: {cohort}",
    "typology.destination": "Bestemming bij uitstroom",
    "typology.within": "Binnen {h} mnd",
    "typology.jobs_caption": "De eerste baan na uitstroom naar werk: contract, arbeidsduur en sector (alle uitstroomcohorten samen)",
    "typology.jobs_note": "Aandeel van alle eerste banen (alle uitstroomcohorten samen); afgeschermde cellen tellen niet mee in de balken, die daardoor een ondergrens zijn.",
    "typology.retention_caption": "Nog uit de bijstand na uitstroom naar werk, naar soort eerste baan: {cohort}",
    "typology.retention_note": "Aandeel dat 6, 12 en 18 maanden na de uitstroom naar werk niet in de bijstand zit, met 95%-betrouwbaarheidsinterval.",
    "typology.wages_caption": "Bruto maandloon van de eerste baan (euro): kwartielen per uitstroomcohort",
    "typology.wages_note": "Kwartielen alleen bij minstens 100 personen met een bekend loon (strengere regel voor inkomens); nooit het laagste of hoogste loon.",
    "typology.q25": "25% verdient minder dan",
    "typology.q50": "Mediaan",
    "typology.q75": "75% verdient minder dan",
    "typology.programme_caption": "Duurzaam versus kortdurend uitgestroomd, deelnemers aan een traject tegenover niet-deelnemers",
    "typology.programme_note": "Van wie uitstroomde (duurzaam naar werk of kortdurend): het aandeel duurzaam, voor wie vóór het begin van het cohort aan een traject deelnam en voor wie niet, en het verschil in procentpunten (95%-interval, Newcombe). Dit is een beschrijving, geen effect: deelnemers verschillen ook op andere punten.",
    "typology.participants": "Deelnemers",
    "typology.non_participants": "Niet-deelnemers",
    "typology.difference": "Verschil (%-punt)",
    # ---------------------------------------------------------------- careers
    "careers.intro": "Voor iedereen die naar werk uitstroomde, is de situatie in elk van de maanden na de uitstroom bekend: vast of tijdelijk werk (*stabiel werk*), uitzend- of oproepwerk (*flexibel werk*), bijstand, bijstand met werk, WW of overig. Loopbanen die op elkaar lijken (optimal matching) zijn in groepen (clusters) ingedeeld. De figuur toont per cluster het aandeel in elke situatie per maand: nooit individuele loopbanen.",
    "careers.clusters_caption": "Clusters van loopbanen na uitstroom naar werk",
    "careers.cluster": "Cluster",
    "careers.label": "Meest voorkomende situatie",
    "careers.states_caption": "Situatie per maand na uitstroom naar werk, per cluster",
    "careers.profile_caption": "Kenmerken per cluster (aandeel binnen het cluster)",
    "careers.mostly": "vooral {state}",
    "careers.month": "Maand na uitstroom",
    # ---------------------------------------------------------------- survival
    "survival.intro": "Dit hoofdstuk volgt bijstandsuitkeringen in de tijd: hoe snel stromen mensen uit, waarheen, en hoe snel komen ze terug? De tijd telt in maanden sinds het begin van de uitkering. Uitkeringen die nog lopen aan het eind van de periode tellen mee zolang ze gevolgd zijn (rechtse censurering).",
    "survival.outflow_caption": "Aandeel nog in de bijstand naar duur, per doelgroep",
    "survival.outflow_note": "Kaplan-Meier-schattingen met linkse afknotting; de band geldt voor het totaal.",
    "survival.cif_caption": "Uitstroom naar werk en naar elders: cumulatieve incidentie tegenover 1 − Kaplan-Meier",
    "survival.cif_note": "Doorgetrokken lijnen: cumulatieve incidentie (Aalen-Johansen) van uitstroom naar werk en naar elders (WW, overig), met 95%-band. Gestippeld: de onjuiste schatting 1 − Kaplan-Meier voor uitstroom naar werk, die de andere bestemmingen als gecensureerd behandelt.",
    "survival.competing_title": "Waarom niet 1 − Kaplan-Meier?",
    "survival.competing": "Een Kaplan-Meiercurve voor uitstroom naar werk behandelt iedereen die naar een andere bestemming uitstroomde (WW, overig) alsof die later nog naar werk had kunnen uitstromen. Dat kan niet: wie naar de WW ging, heeft deze uitkering al verlaten. Daardoor overschat 1 − Kaplan-Meier het aandeel dat naar werk uitstroomt, en meer naarmate meer mensen elders heen gaan. De cumulatieve incidentie telt elke bestemming alleen voor wie op dat moment nog in de bijstand zat; de bestemmingen en 'nog in de bijstand' tellen samen op tot 100%.",
    "survival.reentry_caption": "Herinstroom naar bestemming bij uitstroom en naar soort contract van de eerste baan",
    "survival.reentry_note": "Kaplan-Meier-schatting van het aandeel dat weer in de bijstand komt, naar maanden sinds de uitstroom.",
    "survival.hazards_caption": "Hazard ratio's: wie stroomt sneller uit naar werk, en wie komt sneller terug?",
    "survival.hazards_note": "Hazard ratio met 95%-interval (logaritmische schaal), uit Cox-modellen met alle kenmerken tegelijk. Boven 1: sneller (uitstroom naar werk, links) of vaker terug (herinstroom, rechts) dan de referentiegroep (man, 18-26 jaar, Nederlandse herkomst, alleenstaand, laag opgeleid; bij herinstroom: uitstroom naar werk met een vast contract van 24 uur of meer). Trajecten tellen mee vanaf de startmaand (tijdsafhankelijk). Hazard ratio's van trajecten zijn geen effecten: zie hoofdstuk 'Welk traject werkt voor wie?'.",
    "survival.model.exit_to_work": "Uitstroom naar werk",
    "survival.model.reentry": "Herinstroom",
    "survival.model.exit_elsewhere": "Uitstroom naar elders",
    "survival.ph_caption": "Toets van evenredige hazards: termen met een afwijking",
    "survival.ph_tests_used": "Getoetst met {tests}.",
    "survival.ph_test.schoenfeld": "de geschaalde Schoenfeld-residuen tegen de rangorde van de tijd (Grambsch-Therneau)",
    "survival.ph_test.score": "een scoretoets van de interactie van elke term met de logaritme van de duur (bij grote registers)",
    "survival.ph_none": "Bij geen enkele term is er bewijs tegen de aanname van evenredige hazards (p ≥ 0,05). De concordantie (C) is {concordance}.",
    "survival.ph_note": "Bij deze termen verandert de hazard ratio met de duur; lees de hazard ratio dan als een gemiddelde over de duur. Concordantie (C): {concordance}.",
    "survival.term": "Term",
    "survival.model": "Model",
    "survival.p_value": "p-waarde",
    "survival.recommendation": "Advies",
    "survival.immortal_title": "Waarom tellen trajecten pas vanaf de start mee?",
    # ---------------------------------------------------------------- effects
    "effects.intro": "Wat levert een traject op? Vergeleken wordt iemand die in een bepaalde maand met een traject begint met vergelijkbare mensen die in diezelfde maand in de bijstand zaten en (nog) niet begonnen: zelfde uitkeringsduur, zelfde kalendermaand, zelfde kenmerken en arbeidsverleden. Zo meet het effect wat *nu* starten oplevert ten opzichte van *nu niet* starten (later starten kan nog). Drie schattingen staan naast elkaar: het ruwe verschil, matching en een dubbel robuuste schatting met machine learning (DML); de laatste is de hoofduitkomst.",
    "effects.table_caption": "Effect op {outcome} voor alle deelnemers: drie schattingsmethoden",
    "effects.forest_caption": "Effect op duurzame uitstroom per doelgroep en traject (DML, procentpunten)",
    "effects.forest_note": "Punt: geschat effect; lijn: 95%-betrouwbaarheidsinterval. Rechts van de nullijn: meer duurzame uitstroom door nu te starten.",
    "effects.methods_caption": "Wat verandert correctie? Ruw verschil, matching en DML per traject en uitkomst (alle deelnemers)",
    "effects.methods_note": "Het ruwe verschil vergelijkt starters met iedereen die in dezelfde maand niet startte, zonder correctie; matching en DML vergelijken met vergelijkbare niet-starters. Een groot verschil tussen ruw en gecorrigeerd laat zien hoe sterk de selectie in trajecten is.",
    "effects.balance_caption": "Vergelijkbaarheid vóór en na matching: gestandaardiseerde verschillen in kenmerken",
    "effects.balance_note": "Absoluut gestandaardiseerd verschil tussen deelnemers en vergelijkingsgroep per kenmerk, vóór (open) en na (gevuld) correctie. Onder 0,1 (stippellijn) geldt als goed vergelijkbaar.",
    "effects.overlap_caption": "Overlap: deelnemers zonder vergelijkbare niet-deelnemers",
    "effects.overlap_note": "Deelnemers buiten het gemeenschappelijke bereik van de propensityscore tellen niet mee in de schatting.",
    "effects.n_treated": "Deelnemers",
    "effects.n_off_support": "Zonder vergelijkbare niet-deelnemer",
    "effects.propensity_caption": "Verdeling van de kans om te starten (propensityscore) voor deelnemers en niet-deelnemers",
    "effects.propensity_note": "Histogram per traject (aandeel per klasse); alleen geaggregeerde klassen, geen individuele scores.",
    "effects.risk_log_caption": "Welke trajectstarts zijn gebruikt?",
    "effects.risk_item": "Starts",
    "effects.estimate": "Effect",
    "effects.ci": "95%-interval",
    "effects.programme": "Traject",
    "effects.pp": "%-punt",
    "effects.months_unit": "maanden",
    "effects.axis_pp": "Effect (procentpunten)",
    "toe.title": "Selectie op wat niet in de gegevens staat: het timing-of-events-model",
    "toe.intro": "Matching en DML nemen aan dat wie nu start en wie niet, bij dezelfde waargenomen kenmerken vergelijkbaar zijn. Als klantmanagers trajecten geven aan wie er (om een reden buiten de gegevens, zoals motivatie) toch al sneller uit zou stromen, dan overschatten die methoden het effect. Het timing-of-events-model (Abbring en Van den Berg, 2003) laat zulke niet-waargenomen verschillen toe: het schat tegelijk hoe snel mensen naar werk uitstromen en hoe snel ze met een traject beginnen, met een gedeelde onbekende eigenschap per persoon. Het effect komt dan uit de timing: stroomt iemand vlak na de start sneller uit dan vergelijkbare mensen die (nog) niet startten?",
    "toe.absent": "Het timing-of-events-model is niet geschat in deze run (zie het runlog).",
    "toe.caption": "Drie methoden naast elkaar: het timing-of-events-model tegenover matching en DML (alle deelnemers)",
    "toe.hr_post": "Hazard ratio werk, na het traject",
    "toe.hr_lock_in": "Hazard ratio werk, tijdens het traject",
    "toe.implied_12m": "Timing of events: binnen 12 maanden uit de bijstand gegaan (%-punt)",
    "toe.method_outcome": "{method}: uit de bijstand na 12 maanden (%-punt)",
    "toe.note": "Hazard ratio: hoeveel sneller deelnemers naar werk uitstromen dan zonder traject (boven 1: sneller), met 95%-interval; tijdens het traject en erna apart. De derde kolom vertaalt het model naar de kans om binnen 12 maanden na de start uit de bijstand te zijn gegaan; matching en DML meten of iemand 12 maanden na de start uit de bijstand is. Die uitkomsten lijken op elkaar maar zijn niet gelijk (wie uitstroomt en terugkeert telt alleen in de eerste mee). Het model gebruikt alleen uitkeringen die binnen de gegevens begonnen (instroom), omdat wie al lang in de bijstand zat op een niet-waargenomen manier geselecteerd is.",
    "toe.heterogeneity_none": "Het model vond geen niet-waargenomen verschillen tussen personen (één groep): het komt dan neer op een model met alleen waargenomen kenmerken, en er is geen aanwijzing voor selectie op wat niet in de gegevens staat.",
    "toe.heterogeneity_found": "Het model vond {points} groepen personen die in niet-waargenomen opzicht verschillen. De correlatie tussen de onbekende kans om naar werk uit te stromen en de onbekende kans om met een traject te beginnen is {rho} (met twee groepen is die per definitie −1 of 1; alleen het teken telt).",
    "toe.selection_positive": "Wie om niet-waargenomen redenen sneller naar werk uitstroomt, begint ook vaker met een traject: matching en DML kunnen het effect dan overschatten; het verschil tussen de derde kolom van de tabel en matching en DML laat zien hoeveel.",
    "toe.selection_negative": "Wie om niet-waargenomen redenen sneller naar werk uitstroomt, begint juist minder vaak met een traject: matching en DML kunnen het effect dan onderschatten.",
    "toe.selection_none": "De niet-waargenomen kans om uit te stromen hangt nauwelijks samen met de kans om te beginnen: geen aanwijzing voor selectie op wat niet in de gegevens staat.",
    "duration.title": "Effect over de hele duur, ook voor recente starts",
    "duration.intro": "De tabellen hierboven meten een effect op één moment (12 of 18 maanden na de start) en tellen alleen starts die al zo lang gevolgd konden worden; de recentste starts vallen dan weg. Hier staat het effect van nu starten op het aandeel in de bijstand en het aandeel aan het werk zonder bijstand in elke maand tot 36 maanden na de start, en op het verwachte aantal maanden in de bijstand. Elke start telt mee zolang de gegevens lopen; wie nog niet lang genoeg gevolgd kon worden, wordt vervangen door vergelijkbare starts die dat wel konden (weging naar de kans om niet gecensureerd te zijn).",
    "duration.curves_absent": "Er zijn geen effectcurves over de hele duur geschat.",
    "duration.curves_caption": "Effect van nu starten op het aandeel {outcome}, per maand na de start (DML, procentpunten)",
    "duration.curves_note": "Lijn: geschat effect; vlak: 95%-interval per maand; stippellijnen: 95%-band voor de hele curve tegelijk (wie meerdere maanden tegelijk wil lezen, gebruikt de band). Ook recente starts tellen mee: wie nog geen 36 maanden gevolgd kon worden, telt mee zolang de gegevens lopen (inverse kansweging voor censurering).",
    "duration.x_label": "Maanden na de start",
    "duration.y_label": "Effect (procentpunten)",
    "duration.rmst_absent": "Er zijn geen effecten op de verwachte tijd in de bijstand geschat.",
    "duration.rmst_caption": "Effect van nu starten op het verwachte aantal maanden in de bijstand binnen 12, 18 en 36 maanden (alle deelnemers)",
    "duration.rmst_note": "Maanden; negatief: korter in de bijstand. Tussen haken het 95%-interval. De verwachte tijd binnen een horizon (restricted mean) is de som van de kans om in de bijstand te zitten over de maanden tot die horizon; recente starts tellen mee met censurering.",
    "duration.rmst_horizon": "Binnen {months} maanden",
    "duration.starts": "Starts",
    "duration.method": "Methode",
    "duration.horizon": "Horizon",
    "duration.estimate_months": "Effect (maanden)",
    "duration.sensitivity_absent": "Er is geen gevoeligheidsanalyse voor de verwachte tijd in de bijstand.",
    "duration.sensitivity_caption": "Hoe gevoelig is het effect op de verwachte tijd in de bijstand voor een niet-waargenomen verschil tussen deelnemers en anderen?",
    "duration.sensitivity_note": "Maanden. De robuustheidswaarde is hoe sterk een niet-waargenomen factor (bijvoorbeeld motivatie) zou moeten samenhangen met zowel de deelname als de tijd in de bijstand (aandeel verklaarde resterende variatie) om het 95%-interval nul te laten bevatten; 0% betekent dat het interval nul al bevat. Het bereik is het effect inclusief onzekerheid als zo'n factor van de genoemde sterkte bestaat, in het ongunstigste geval (Chernozhukov e.a. 2022). Recente starts tellen mee: de resterende variatie van wie nog niet lang genoeg gevolgd kon worden, wordt geschat met weging naar de kans om niet gecensureerd te zijn.",
    "duration.sensitivity_item": "**{programme}, tijd in de bijstand binnen {months} maanden.**",
    # ---------------------------------------------------------------- methods appendix
    "methods.intro": "Deze bijlage legt uit wat er precies geschat is, onder welke aannames, en hoe de geheimhouding werkt.",
    "methods.estimand_title": "Wat wordt geschat: 'nu starten' tegenover 'nu niet starten'",
    "methods.estimand": "Mensen beginnen op verschillende momenten in hun uitkering aan een traject. Het effect is daarom gedefinieerd per startmaand (Sianesi 2004; Crépon e.a. 2009): voor wie in maand *t* van de uitkering met traject P begint, vergelijken we de uitkomst met wat er zou zijn gebeurd als die persoon in maand *t* níet was begonnen, en misschien later wel. De vergelijkingsgroep bestaat uit iedereen die in die maand in de bijstand zat en in deze uitkering nog geen traject was begonnen. Het gemiddelde over de deelnemers is het *average treatment effect on the treated* (ATT). Het effect van 'nooit deelnemen' is een andere vraag, die deze gegevens niet zonder extra aannames beantwoorden.",
    "methods.outcomes_title": "Uitkomsten",
    "methods.outcomes": "Alle uitkomsten worden gemeten vanaf de startmaand: *werkend na 12 maanden* (werk of bijstand met werk op de maandeinde 12 maanden na de start), *uit de bijstand na 12 maanden*, *duurzaam uit de bijstand* (op geen enkel maandeinde van maand 6 tot en met 18 na de start in de bijstand) en het *aantal maanden in de bijstand* in de 18 maanden na de start. De eerste maanden van een traject houden mensen vaak van solliciteren af (het *lock-in*-effect); daarom meet duurzame uitstroom pas vanaf maand 6.",
    "methods.assumptions_title": "Aannames, in gewone woorden",
    "methods.assumptions": "1. **Geen anticipatie.** Wie weet dat hij later een traject krijgt, gedraagt zich vóór de start niet anders.\n2. **Selectie op waargenomen kenmerken.** Tussen mensen met dezelfde kenmerken, hetzelfde arbeidsverleden, dezelfde uitkeringsduur en dezelfde kalendermaand hangt het wel of niet nu starten niet samen met hun kansen op werk. Als klantmanagers trajecten toewijzen op grond van iets wat niet in de gegevens staat (motivatie, gezondheid), kunnen de schattingen vertekend zijn.\n3. **Overlap.** Voor elke deelnemer zijn er vergelijkbare mensen die in die maand niet startten. Deelnemers zonder vergelijkbare niet-deelnemers tellen niet mee (zie de overlaptabel).",
    "methods.estimators_title": "Schatters",
    "methods.estimators": "Het **ruwe verschil** vergelijkt starters met iedereen die in dezelfde maand niet startte. **Matching** zoekt per deelnemer de meest vergelijkbare niet-deelnemer (op de propensityscore, exact op kalendermaand en uitkeringsduur) met een regressiecorrectie (Abadie en Imbens 2011); de standaardfouten (een bootstrap die per herhaling ook de propensityscore opnieuw schat en opnieuw matcht, Otsu en Rai 2017; een gewone bootstrap van een matchingschatter is ongeldig, Abadie en Imbens 2008, en een geschatte propensityscore verandert de variantie, Abadie en Imbens 2016) houden er rekening mee dat één persoon vaak als vergelijking dient, in veel maanden voorkomt, en dat de propensityscore zelf geschat is. **DML** (double machine learning) combineert een model voor de kans om te starten met een model voor de uitkomst; de schatting blijft goed als één van beide klopt (dubbel robuust), en de modellen worden op andere personen geschat dan waarop ze worden toegepast (cross-fitting; Chernozhukov e.a. 2018). Effecten per doelgroep zijn dezelfde schatting binnen de groep (Knaus 2022).",
    "methods.duration_title": "Effecten over de hele duur: censurering",
    "methods.duration": "De effectcurves gebruiken hetzelfde ontwerp ('nu starten' tegenover 'nu niet starten') en meten het aandeel in de bijstand, en het aandeel aan het werk zonder bijstand, in elke maand tot 36 maanden na de start. Een recente start kan nog niet zo lang gevolgd worden: de latere maanden vallen na het einde van de gegevens (censurering). Zo'n start telt mee voor de maanden die bekend zijn; voor de latere maanden wegen de starts die wel zo lang gevolgd konden worden zwaarder, naar de kans om bij dezelfde kenmerken niet gecensureerd te zijn (inverse kansweging in een dubbel robuuste score, met cross-fitting zoals DML; Bang en Tsiatis 2000; voor de dynamische toewijzing Van den Berg en Vikström 2022). Omdat het einde van de gegevens alleen afhangt van de kalendermaand van de start, rust dit op een aanname: bij dezelfde kenmerken, hetzelfde verleden en dezelfde uitkeringsduur verlopen de uitkomsten van recente starts zoals die van eerdere. Een schok vlak voor het einde van de gegevens (een recessie) schendt die aanname. De verwachte tijd in de bijstand binnen 12, 18 of 36 maanden is de som van de curve tot die maand. De band rond een curve geldt voor de hele curve tegelijk (een sup-t-band uit een multiplier-bootstrap), het interval per maand alleen voor die maand. De gevoeligheidsanalyse voor verborgen verschillen (Chernozhukov e.a. 2022) geldt ook voor de verwachte tijd in de bijstand; de resterende variatie van die tijd wordt dan geschat met dezelfde weging, zodat recente starts meetellen, en de censurering zelf wordt niet door het verborgen verschil beïnvloed verondersteld.",
    "methods.toe_title": "Het timing-of-events-model",
    "methods.toe": "Het timing-of-events-model (Abbring en Van den Berg, 2003) beschrijft per maand van een bijstandsuitkering drie kansen: uitstroom naar werk, uitstroom om een andere reden en de start van een eerste traject. Elke kans hangt af van de uitkeringsduur (per duurklasse), de waargenomen kenmerken van die maand en een onbekende eigenschap van de persoon. Die eigenschap heeft een beperkt aantal waarden (massapunten), gedeeld door alle uitkeringen van dezelfde persoon; punten worden toegevoegd zolang het BIC-criterium verbetert, zoals in het R-pakket durmod. Het effect van een traject is een verschuiving van de uitstroomkans naar werk vanaf de maand na de start, met een apart effect tijdens het traject waar een traject mensen tijdelijk van solliciteren afhoudt (lock-in). Het model gebruikt alleen uitkeringen die binnen de gegevens begonnen. De aannames: (1) geen anticipatie: de uitstroomkans verandert niet al vóór de start omdat iemand weet dat die komt; (2) evenredige hazards met een gemengde verdeling: de onbekende eigenschap vermenigvuldigt de kansen en hangt niet af van de waargenomen kenmerken; (3) de discrete verdeling benadert de echte. Standaardfouten houden rekening met meerdere uitkeringen van dezelfde persoon.",
    "methods.competing_title": "Concurrerende risico's: waarom niet 1 − Kaplan-Meier",
    "methods.immortal_title": "Immortal-time bias: waarom niet 'ooit deelgenomen'",
    "methods.immortal": "Wie 'ooit deelgenomen' vergelijkt met 'nooit deelgenomen', maakt een bekende fout. Om in maand 10 van een uitkering met een traject te beginnen, moet iemand in maand 10 nog in de bijstand zitten: de maanden vóór de start zijn per definitie maanden zonder uitstroom. Een 'ooit'-indicator telt die maanden als deelnemerstijd, en wie snel uitstroomt krijgt de kans niet om te beginnen en telt als niet-deelnemer. Deelnemers lijken daardoor trager uit te stromen, ook als het traject niets doet. Dit rapport telt iemand daarom pas vanaf de startmaand als deelnemer (tijdsafhankelijke term), en vergelijkt in de effectschattingen steeds mensen op hetzelfde moment in hun uitkering.",
    "methods.disclosure_title": "Geheimhoudingsregels",
    "methods.disclosure": "De regels volgen de praktijk voor uitvoer uit CBS Remote Access (controleer altijd de actuele regels): minstens 10 personen per cel; aantallen afgerond op 5; secundaire geheimhouding zodat geen afgeschermde cel uit totalen terug te rekenen is; nullen worden ook afgeschermd; aandelen alleen met een noemer van minstens 10 en als ook het complement minstens 10 personen telt; kwantielen van lonen met minstens 100 personen, nooit het minimum of maximum; modellen met minstens 10 vrijheidsgraden; geen individuele punten in figuren. Het pakket past de regels toe vóór een tabel wordt weggeschreven, en dit rapport leest alleen die beveiligde tabellen.",
    "methods.references_title": "Literatuur",
    "methods.references": "- Abadie, A. en G. Imbens (2008). On the failure of the bootstrap for matching estimators. *Econometrica* 76(6).\n- Abadie, A. en G. Imbens (2011). Bias-corrected matching estimators for average treatment effects. *Journal of Business & Economic Statistics* 29(1).\n- Abadie, A. en G. Imbens (2016). Matching on the estimated propensity score. *Econometrica* 84(2).\n- Crépon, B., M. Ferracci, G. Jolivet en G. J. van den Berg (2009). Active labor market policy effects in a dynamic setting. *Journal of the European Economic Association* 7(2-3).\n- Benjamini, Y. en Y. Hochberg (1995). Controlling the false discovery rate: a practical and powerful approach to multiple testing. *Journal of the Royal Statistical Society B* 57(1).\n- Chernozhukov, V. e.a. (2018). Double/debiased machine learning for treatment and structural parameters. *The Econometrics Journal* 21(1).\n- Chernozhukov, V., C. Cinelli, W. Newey, A. Sharma en V. Syrgkanis (2022). Long story short: omitted variable bias in causal machine learning. NBER Working Paper 30302.\n- Knaus, M. C. (2022). Double machine learning-based programme evaluation under unconfoundedness. *The Econometrics Journal* 25(3).\n- Otsu, T. en Y. Rai (2017). Bootstrap inference of matching estimators for average treatment effects. *Journal of the American Statistical Association* 112(520).\n- Lechner, M. en C. Wunsch (2013). Sensitivity of matching-based program evaluations to the availability of control variables. *Labour Economics* 21.\n- Sianesi, B. (2004). An evaluation of the Swedish system of active labor market programs in the 1990s. *Review of Economics and Statistics* 86(1).\n- Vikström, J. (2017). Dynamic treatment assignment and evaluation of active labor market policies. *Labour Economics* 49.\n- Abbring, J. H. en G. J. van den Berg (2003). The nonparametric identification of treatment effects in duration models. *Econometrica* 71(5).\n- Bang, H. en A. A. Tsiatis (2000). Estimating medical costs with censored data. *Biometrika* 87(2).\n- Van den Berg, G. J. en J. Vikström (2022). Long-run effects of dynamically assigned treatments: a new methodology and an evaluation of training effects on earnings. *Econometrica* 90(3).",
    # ---------------------------------------------------------------- labels: statuses and types
    "status.bijstand": "bijstand",
    "status.werk": "werk",
    "status.bijstand_met_werk": "bijstand met werk",
    "status.ww": "WW",
    "status.overig": "overig",
    "destination.all": "alle bestemmingen",
    "destination.werk": "naar werk",
    "destination.ww": "naar WW",
    "destination.overig": "naar overig",
    "destination.elsewhere": "naar elders (WW, overig)",
    "type.continuous": "continu in de bijstand",
    "type.sustainable_work": "duurzaam uitgestroomd naar werk",
    "type.short_outflow": "kortdurend uitgestroomd",
    "type.outflow_elsewhere": "uitgestroomd, niet duurzaam naar werk",
    "type.recidivist": "recidivist (herhaalde herinstroom)",
    "state.stable_work": "stabiel werk (vast, tijdelijk)",
    "state.flexible_work": "flexibel werk (uitzend, oproep)",
    "state.work_unknown_contract": "werk, contract onbekend",
    "state.bijstand_met_werk": "bijstand met werk",
    "state.bijstand": "bijstand",
    "state.ww": "WW",
    "state.overig": "overig",
    "cohort.stock": "bijstandsbestand op {date}",
    "cohort.outflow": "uitstroomcohort {year}",
    "cohort.stock_short": "bestand {date}",
    "cohort.outflow_short": "uitstroom {year}",
    "horizon.short": "{h} mnd",
    # ---------------------------------------------------------------- labels: groups
    "dim.all": "totaal",
    "dim.sex": "geslacht",
    "dim.age": "leeftijd",
    "dim.migration": "herkomst",
    "dim.household": "huishouden",
    "dim.education": "opleiding",
    "dim.duration": "duur in de bijstand",
    "dim.programme": "traject",
    "dim.destination": "bestemming",
    "dim.contract": "contract eerste baan",
    "dim.hours": "arbeidsduur eerste baan",
    "dim.hours_band": "arbeidsduur eerste baan",
    "dim.sector": "sector eerste baan",
    "group.all": "Iedereen",
    "group.sex=M": "mannen",
    "group.sex=F": "vrouwen",
    "group.age=18-26": "18-26 jaar",
    "group.age=27-49": "27-49 jaar",
    "group.age=50+": "50 jaar en ouder",
    "group.migration=dutch": "Nederlandse herkomst",
    "group.migration=europe": "Europese herkomst (excl. Nederland)",
    "group.migration=outside_europe": "herkomst buiten Europa",
    "group.migration=western": "westerse migratieachtergrond (CBS-indeling vóór 2022)",
    "group.migration=non_western": "niet-westerse migratieachtergrond (CBS-indeling vóór 2022)",
    "group.migration=unknown": "herkomst onbekend",
    "group.household=single": "alleenstaand",
    "group.household=single_parent": "eenoudergezin",
    "group.household=couple_no_children": "paar zonder kinderen",
    "group.household=couple_with_children": "paar met kinderen",
    "group.household=child_at_home": "thuiswonend kind",
    "group.household=other": "ander huishouden",
    "group.household=unknown": "huishouden onbekend",
    "group.education=low": "laag opgeleid",
    "group.education=medium": "middelbaar opgeleid",
    "group.education=high": "hoog opgeleid",
    "group.education=unknown": "opleiding onbekend",
    "group.duration=<1y": "korter dan 1 jaar in de bijstand",
    "group.duration=1-2y": "1-2 jaar in de bijstand",
    "group.duration=2-5y": "2-5 jaar in de bijstand",
    "group.duration=5+y": "5 jaar of langer in de bijstand",
    "group.programme=yes": "deelnemer aan een traject",
    "group.programme=no": "geen traject",
    "group.destination=werk": "uitstroom naar werk",
    "group.destination=ww": "uitstroom naar WW",
    "group.destination=overig": "uitstroom naar overig",
    "group.contract=permanent": "vast contract",
    "group.contract=fixed_term": "tijdelijk contract",
    "group.contract=agency": "uitzendwerk",
    "group.contract=on_call": "oproepwerk",
    "group.contract=unknown": "contract onbekend",
    "group.contract=none": "geen baan",
    "group.hours=<12": "minder dan 12 uur",
    "group.hours=12-19": "12 tot 20 uur",
    "group.hours=20-34": "20 tot 35 uur",
    "group.hours=35+": "35 uur of meer",
    "group.hours=unknown": "uren onbekend",
    "group.status_holder=yes": "statushouder",
    "group.status_holder=no": "geen statushouder",
    # ---------------------------------------------------------------- labels: effects
    "outcome.employed_12m": "werkend na 12 maanden",
    "outcome.off_bijstand_12m": "uit de bijstand na 12 maanden",
    "outcome.off_bijstand_6_18m": "duurzaam uit de bijstand (maand 6 t/m 18)",
    "outcome.months_bijstand_18m": "maanden in de bijstand (18 maanden na de start)",
    "outcome.participating_18m": "participeert (18 maanden na de start)",
    "outcome.volunteering_18m": "doet vrijwilligerswerk (18 maanden na de start)",
    "outcome.on_bijstand": "in de bijstand",
    "outcome.work_off_bijstand": "aan het werk zonder bijstand",
    "outcome.rmst_bijstand_12m": "verwachte maanden in de bijstand binnen 12 maanden",
    "outcome.rmst_bijstand_18m": "verwachte maanden in de bijstand binnen 18 maanden",
    "outcome.rmst_bijstand_36m": "verwachte maanden in de bijstand binnen 36 maanden",
    "method.naive": "ruw verschil",
    "method.matching": "matching",
    "method.dml": "DML (dubbel robuust)",
    "programme.job_coaching": "jobcoaching",
    "programme.training": "scholing",
    "programme.work_experience": "werkervaringsplaats",
    "programme.participation": "participatietraject",
    "programme.wage_subsidy": "loonkostensubsidie",
    "programme.application_training": "sollicitatietraining",
    # ---------------------------------------------------------------- labels: hazard-model terms
    "term.status_holder": "statushouder",
    "term.side_job": "werk naast de bijstand",
    "term.hist_employed_36m": "jaren werk in de 3 jaar ervoor",
    "term.hist_bijstand_36m": "jaren eerdere bijstand in de 3 jaar ervoor",
    "term.hist_ww_36m": "jaren WW in de 3 jaar ervoor",
    "term.year": "jaar {value}",
    "term.programme": "traject: {value}",
    "term.lock_in": "tijdens traject: {value}",
    "term.exit=ww": "uitstroom naar WW (t.o.v. werk)",
    "term.exit=overig": "uitstroom naar overig (t.o.v. werk)",
    "term.job_hours=<12": "eerste baan minder dan 12 uur",
    "term.job_hours=12-23": "eerste baan 12 tot 24 uur",
    "term.job_hours=unknown": "eerste baan, uren onbekend",
    "term.spell_duration=12-35": "1 tot 3 jaar in de bijstand vóór uitstroom",
    "term.spell_duration=36+": "3 jaar of langer in de bijstand vóór uitstroom",
    "covariate.age": "leeftijd",
    "covariate.spell_month": "uitkeringsduur (maanden)",
    "covariate.calendar": "kalendermaand",
    "covariate.side_job": "werk naast de bijstand",
    "covariate.status_holder": "statushouder",
    "covariate.hist_employed_36m": "maanden werk (3 jaar ervoor)",
    "covariate.hist_bijstand_36m": "maanden bijstand (3 jaar ervoor)",
    "covariate.hist_ww_36m": "maanden WW (3 jaar ervoor)",
    # ---------------------------------------------------------------- risk-set log
    "risklog.programme starts in the input": "trajectstarts in de invoer",
    "risklog.start before or after the window": "start vóór of na de onderzoeksperiode",
    "risklog.start not within a bijstand spell": "start niet tijdens een bijstandsuitkering",
    "risklog.later start in a spell that already had a programme": "latere start in een uitkering die al een traject had",
    "risklog.two different programmes started in the same month": "twee verschillende trajecten in dezelfde maand gestart",
    "risklog.start too late for an 18-month follow-up": "start te laat voor 18 maanden follow-up binnen de periode",
    "risklog.starts used as time zero": "gebruikte starts (tijdstip nul)",
    # ---------------------------------------------------------------- summary, conclusions, limitations (issue 13)
    "chapter.conclusions": "Conclusies",
    "dashboard.kpi_programmes_value": "{j} van {k}",
    "data.reason.migration_pre_2022": "herkomst in de CBS-indeling van vóór 2022 (westers/niet-westers), omgezet naar de indeling van 2022: westers → Europa, niet-westers → buiten Europa. Niet-westers ligt geheel buiten Europa; westers omvatte ook Indonesië, Japan, Noord-Amerika en Oceanië, die nu buiten Europa vallen (een benadering)",
    "chapter.diagnostics": "Diagnostiek",
    "nav.diagnostics": "Diagnostiek",
    "diagnostics.intro": "De controles van de schatters: kloppen de voorspelde verschillen in effect tussen groepen (kalibratie), gelden de aannames van de hazardmodellen, lijken deelnemers en vergelijkingsgroep na matching op elkaar (balans), zijn er voor alle deelnemers vergelijkbare niet-deelnemers (overlap), en hoeveel starts en vergelijkingen zijn gebruikt.",
    "effects.policy_title": "Welk traject voor welke groep?",
    "effects.policy_untested": "Er is in deze run niet getoetst of het effect tussen groepen verschilt; daarom staat hier geen toewijzingsregel.",
    "overig_detail.other_benefit": "een andere uitkering (bijvoorbeeld arbeidsongeschiktheid, nabestaanden, AOW)",
    "overig_detail.no_work_or_benefit": "geen geregistreerd werk of uitkering",
    "dashboard.cohort_size": "Cohort (personen)",
    "dashboard.small_paths": "kleine paden (minder dan 10 personen per pad)",
    "dashboard.overig_detail": "waarvan {detail}",
    "findings.title_groups": "Per doelgroep",
    "chapter.limitations": "Beperkingen en robuustheid",
    "nav.conclusions": "Conclusies",
    "nav.limitations": "Beperkingen",
    "summary.what_works_title": "Wat werkt?",
    "summary.what_works_lead": "Effect van nu starten met een traject, tegenover nu (nog) niet, op duurzame uitstroom (geen bijstand van maand 6 tot en met 18 na de start), in procentpunten met 95%-betrouwbaarheidsinterval ({method}):",
    "summary.programme_suppressed": "{programme}: te weinig deelnemers om een effect te tonen.",
    "summary.groups_line": "{programme}, per doelgroep: {findings}.",
    "summary.groups_positive": "aantoonbaar meer duurzame uitstroom voor {groups}",
    "summary.groups_negative": "aantoonbaar minder duurzame uitstroom voor {groups}",
    "summary.targeting_yes": "Het effect verschilt aantoonbaar tussen doelgroepen voor {programmes}; de toewijzingsregel staat in het hoofdstuk over de effecten.",
    "summary.targeting_no": "De gegevens geven geen basis om trajecten op doelgroepen te richten: voor geen enkel traject verschilt het effect aantoonbaar tussen groepen (toets op verschillen in effect, gecorrigeerd voor het aantal trajecten).",
    "summary.participation_lead": "Meedoen buiten betaald werk (de registratie van de gemeente; {method}): het effect op de kans om 18 maanden na de start mee te doen aan een activiteit (vrijwilligerswerk, opleiding, mantelzorg, sociale activering of anders).",
    "summary.caveat": "Belangrijkste kanttekening: deelnemers worden vergeleken met mensen die op hetzelfde moment in hun uitkering vergelijkbaar waren op de geregistreerde kenmerken. Wijzen klantmanagers trajecten toe op iets wat niet geregistreerd is (motivatie, gezondheid), dan kunnen de effecten vertekend zijn; het hoofdstuk over beperkingen laat zien hoe sterk zo'n verschil zou moeten zijn.",
    "summary.caseload_caption": "Het bestand: personen in de bijstand op {date}, naar duur van de uitkering tot dan",
    "summary.caseload_note": "Aantallen afgerond op 5; x = afgeschermd (minder dan 10 personen). Aandelen van het hele bestand.",
    "summary.caseload_total": "Totaal",
    "summary.duration": "Duur van de uitkering",
    "findings.no_difference": "Voor de andere {n} doelgroepen is er geen aantoonbaar effect van {programme}.",
    "findings.suppressed": "Voor {n} doelgroep(en) zijn er te weinig deelnemers om een effect te tonen.",
    "findings.note": "Voor alle deelnemers samen telt een effect als aantoonbaar als het 95%-interval helemaal boven of onder nul ligt. Een doelgroep telt alleen als bevinding als het effect ook na correctie voor het aantal onderzochte groepen van nul verschilt (false discovery rate {alpha}; Benjamini en Hochberg 1995) en de groep minstens {min_n} deelnemers heeft. Schatting: {method}.",
    "programmes.none_described": "De trajecten zijn in deze run niet beschreven (de studie-instellingen geven geen namen, omschrijvingen of kosten).",
    "programmes.caption": "De onderzochte trajecten",
    "programmes.description": "Omschrijving",
    "programmes.participants": "Deelnemers",
    "programmes.cost": "Kosten per deelnemer",
    "programmes.note": "Omschrijving en kosten zoals de gemeente ze opgeeft. Deelnemers: personen die in de onderzoeksperiode met het traject begonnen (afgerond op 5).",
    "conclusions.intro": "Wat de evaluatie per traject concludeert. Effecten op duurzame uitstroom ({method}) in procentpunten, met 95%-betrouwbaarheidsinterval.",
    "conclusions.groups": "Per doelgroep: {findings}.",
    "conclusions.no_groups": "Geen enkele doelgroep laat na correctie voor het aantal onderzochte groepen een eigen aantoonbaar effect zien (doelgroepen zijn kleiner dan het geheel, hun intervallen dus breder).",
    "conclusions.agree": "{other} geeft een vergelijkbaar beeld: {estimate} procentpunt ({interval}).",
    "conclusions.disagree": "{other} geeft een ander beeld: {estimate} procentpunt ({interval}); de intervallen overlappen niet, dus de keuze van de methode doet ertoe en de uitkomst is onzeker.",
    "conclusions.robust": "Een verborgen verschil tussen deelnemers en anderen zou {rv} van de resterende variatie van zowel deelname als uitkomst moeten verklaren om deze conclusie te laten vallen.",
    "conclusions.fragile": "Let op: een verborgen verschil dat maar {rv} van de resterende variatie van zowel deelname als uitkomst verklaart, is al genoeg om deze conclusie te laten vallen; ze is dus gevoelig voor niet-geregistreerde verschillen.",
    "conclusions.targeting_yes": "Het effect verschilt aantoonbaar tussen doelgroepen voor {programmes}. De toewijzingsregel in het hoofdstuk over de effecten laat zien welke groepen het meest baat hebben; de winst ervan is onzeker (zie de intervallen).",
    "conclusions.caveat": "Deze conclusies gelden onder de aannames van het volgende hoofdstuk. Ze gaan over het effect van nu starten tegenover (nog) niet starten, voor mensen zoals de deelnemers.",
    "conclusions.no_effects": "In deze run zijn geen effecten van trajecten geschat.",
    "costs.none": "Er zijn geen kosten per deelnemer opgegeven; de kosten per extra duurzame uitstroom zijn niet te berekenen.",
    "costs.caption": "Kosten per extra duurzame uitstroom",
    "costs.per100": "Extra duurzame uitstroom per 100 deelnemers",
    "costs.per_exit": "Kosten per extra duurzame uitstroom",
    "costs.not_defined": "niet te bepalen (geen aantoonbaar positief effect)",
    "costs.note": "Kosten per deelnemer gedeeld door het effect per deelnemer ({method}); tussen haken het bereik dat bij het 95%-interval van het effect hoort. Alleen voor trajecten met een aantoonbaar positief effect. De kosten zijn de gemiddelde kosten die de gemeente opgeeft.",
    "limitations.selection_title": "Selectie op geregistreerde kenmerken",
    "limitations.selection": "De effecten vergelijken wie in een bepaalde maand van de uitkering met een traject begon met mensen die toen op de geregistreerde kenmerken vergelijkbaar waren (leeftijd, geslacht, huishouden, herkomst, opleiding, arbeidsverleden, uitkeringsduur, kalendermaand) maar (nog) niet begonnen. Dat is alleen een eerlijke vergelijking als de toewijzing verder niet samenhangt met de kansen op werk. Klantmanagers kennen motivatie, gezondheid en taalvaardigheid; sturen die de toewijzing, dan zijn de effecten vertekend, in een richting die niet vooraf vaststaat. Hoe goed deze aanpak werkt, hangt sterk af van hoe rijk het arbeidsverleden in de gegevens is (Lechner en Wunsch 2013).",
    "limitations.lockin_title": "Lock-in binnen de horizon",
    "limitations.lockin": "Tijdens een traject solliciteren deelnemers minder (lock-in). De hoofduitkomst meet daarom pas vanaf maand 6 na de start. Duurt een traject langer (scholing, werkervaringsplaats), dan valt een deel van de lock-in binnen de meetperiode en onderschat de uitkomst een later effect. De uitkomsten na 12 maanden en het aantal maanden bijstand in het hoofdstuk over de effecten laten zien hoe het beeld met de horizon verandert.",
    "limitations.multiple_title": "Veel vergelijkingen tegelijk",
    "limitations.multiple": "Met meerdere trajecten en ruim twintig doelgroepen worden bijna honderd effecten geschat; bij 95% betrouwbaarheid zijn enkele 'significante' uitkomsten door toeval te verwachten. Dit rapport noemt een doelgroep daarom alleen een bevinding als het effect ook na correctie voor het aantal groepen van nul verschilt (false discovery rate {alpha}; Benjamini en Hochberg 1995) en de groep minstens {min_n} deelnemers heeft. Een toewijzingsregel per doelgroep staat alleen in het rapport als een toets op verschillen in effect tussen groepen daar aanleiding toe geeft.",
    "limitations.sensitivity_title": "Gevoeligheid voor verborgen verschillen",
    "limitations.sensitivity": "Hoe sterk zou een niet-geregistreerd verschil tussen deelnemers en anderen moeten zijn om de conclusies te veranderen? De gevoeligheidsanalyse (Chernozhukov e.a. 2022) geeft per traject de robuustheidswaarde: het aandeel van de resterende variatie in zowel deelname als uitkomst dat zo'n verschil zou moeten verklaren. Per traject:",
    "limitations.disclosure_title": "Geheimhouding",
    "limitations.disclosure": "Alle aantallen zijn afgerond op 5 en cellen met minder dan 10 personen zijn afgeschermd. Daardoor tellen tabellen niet altijd precies op en ontbreken kleine groepen; effecten voor groepen met minder dan 10 deelnemers worden niet getoond.",
    "limitations.dynamic_title": "Wat het effect wel en niet zegt",
    "limitations.dynamic": "Het effect is dat van nu starten tegenover nu (nog) niet starten; wie in de vergelijkingsgroep zit, kan later alsnog beginnen (Vikström 2017). Het geldt voor mensen zoals de deelnemers, niet voor iedereen in de bijstand, en het zegt niets over gevolgen voor mensen die niet deelnemen (verdringing).",
    "limitations.toe_title": "Het timing-of-events-model rust op eigen aannames",
    "limitations.toe": "Het timing-of-events-model vangt selectie op wat niet in de gegevens staat, maar alleen als niemand op een komende start anticipeert (wie een oproep voor een traject krijgt en daarom snel zelf werk zoekt, schendt dat) en als de onbekende eigenschap de uitstroomkansen evenredig verschuift. Het gebruikt alleen uitkeringen die binnen de gegevens begonnen, dus zegt minder over wie al jaren in de bijstand zit. Als het model en matching of DML duidelijk verschillen, ligt het aan een van deze aannames of aan selectie: de gegevens alleen kunnen niet zeggen welke.",
    "truth.title": "Controle: schattingen tegenover de bekende waarheid",
    "truth.intro": "Dit rapport is gemaakt op de gesimuleerde voorbeeldgemeente, waarvan de echte effecten bekend zijn. De tabel zet de schattingen naast die waarheid: {covered} van de {total} 95%-intervallen (DML en matching) bevatten de echte waarde. Het ruwe verschil laat zien hoe groot de vertekening zonder correctie zou zijn.",
    "truth.caption": "Geschat en werkelijk effect op duurzame uitstroom, alle deelnemers (procentpunten)",
    "truth.truth": "Werkelijk effect",
    "truth.note": "Werkelijk effect: het gemiddelde effect op de deelnemers in de simulatie, bekend omdat de simulatie van elke deelnemer beide uitkomsten kent. Tussen haken het 95%-betrouwbaarheidsinterval.",
}

EN: dict[str, str] = {
    # ---------------------------------------------------------------- report frame
    "report.title": "Social assistance and reintegration",
    "report.subtitle": "What happens to people on social assistance (bijstand), and which reintegration programmes work, for whom?",
    "report.municipality": "Municipality of {municipality}",
    "report.municipality_unknown": "Municipality (name not given)",
    "report.window": "Data from {start} to {end}",
    "report.date": "Report date: {date}",
    "report.version": "Made with reintegration_effects {version}",
    "report.toc": "Contents",
    "report.figure": "Figure",
    "report.table": "Table",
    "report.appendix": "Appendix",
    "report.simulated": "Note: this report was made from **simulated data** (the example municipality), not from data on real persons.",
    "report.disclosure_short": "All counts are rounded to 5; cells with fewer than 10 persons are suppressed (x).",
    "report.suppressed": "x",
    "report.not_available": "This part is not available in this run (table {tables} not found).",
    "report.skipped": "Not (fully) computed in this run because there is too little data ({tables}). From the run log: {reason}",
    "report.all_suppressed": "Every cell of {tables} is suppressed (fewer than 10 persons): there is nothing to show here.",
    "report.nothing_to_show": "No figure: every point of it is suppressed (fewer than 10 persons).",
    "report.part_failed": "This part could not be made: {error}",
    "report.footer": "Report made with reintegration_effects {version}. Every number comes from the protected tables in the folder tables/ and has passed disclosure control.",
    "report.select_cohort": "Cohort",
    "report.select_dimension": "Breakdown",
    "report.all_groups": "all breakdowns",
    "report.months": "months",
    "report.months_since_start": "Months since the benefit began",
    "report.months_since_exit": "Months since leaving bijstand",
    "report.share": "Share",
    "report.persons": "Persons",
    "report.horizon": "After {h} months",
    "report.hover_persons": "{n} persons",
    "report.hover_spells": "{n} benefit spells",
    "report.suppressed_mark": "x = suppressed",
    "report.suppressed_part": "suppressed",
    "report.n_persons": "Number of persons",
    "report.spells": "Benefit spells",
    "report.interval_cut": "An arrow at the edge of the axis: the interval runs further (small group).",
    "report.approx": "about {value}",
    "report.fewer_than_10": "fewer than 10",
    "report.status": "Status",
    "dashboard.findings_title": "In plain words",
    "dashboard.findings_note": "Every programme for everyone, then the target groups whose interval lies wholly above or below zero. Effect on the chance of being off bijstand in months 6 to 18 after the start (DML).",
    "effects.term": "Characteristic",
    "effects.intercept": "reference group",
    "effects.blp_caption": "For whom does a programme work better? Difference in effect per characteristic, all characteristics at once (percentage points)",
    "effects.blp_note": "Best linear projection of the effect on sustainable outflow among participants: the first row is the effect for the reference group ({reference}), the other rows the difference from it for people with that characteristic, other characteristics equal. **Bold**: the interval lies wholly above or below zero.",
    "effects.rv": "Robustness value",
    "effects.bounds": "Range with a hidden factor of {strength}",
    "effects.sensitivity_caption": "How sensitive are the effects to an unobserved difference between participants and others?",
    "effects.sensitivity_note": "The robustness value is how strongly an unobserved factor (for example motivation) would have to be related to both participation and the outcome (share of the remaining variation explained) for the confidence interval to include zero; 0% means the interval already includes zero. The range is the effect, uncertainty included, if such a factor of the stated strength exists (Chernozhukov et al. 2022).",
    "effects.policy_caption": "Which programme for which group? A simple assignment rule (a decision tree with two splits)",
    "effects.policy_note": "Per group the programme with the largest estimated effect on sustainable outflow (or no programme), its effect against no programme, and the expected gain per person-month against the current assignment (percentage points, 95% interval). An exploration, not advice: the intervals are wide.",
    "effects.recommended": "Programme by the rule",
    "effects.no_programme": "no programme",
    "effects.policy_total": "the whole rule",
    "effects.policy_effect": "Effect vs. no programme",
    "effects.policy_gain": "Gain vs. now",
    "effects.calibration_caption": "Does the predicted variation in effects hold up? Effect per quartile of the predicted effect",
    "effects.calibration_note": "Participants are split into four groups by their predicted effect (Q1 lowest, Q4 highest); per group the estimated effect (percentage points). The slope is 1 if the predictions are right and 0 if they say nothing about the actual effect.",
    "effects.slope": "Slope (95% interval)",
    "typology.reentry_table_note": "Share starting a new bijstand benefit within 6, 12 or 18 months of the end of the previous one, with 95% confidence interval (Wilson); x = suppressed.",
    "survival.median": "Median (months)",
    "survival.medians_note": "Half of the benefits in the group end sooner, half later (Kaplan-Meier with left truncation), with 95% interval.",
    "report.use_menu": "Use the menu above the chart for another breakdown.",
    "report.use_menu_programme": "Use the menu above the chart for another programme.",
    "survival.rec_control": "as a control: stratify; if its effect matters: an effect per duration band",
    "survival.rec_programme": "let the effect depend on time since the start (during and after the programme)",
    "flows.kind.outflow": "Outflow cohorts",
    "flows.kind.stock": "Stock cohorts",
    "dashboard.flow_table_caption_html": "Status of the chosen cohort after {horizons} months (persons and share)",
    "effects.before": "before adjustment",
    "effects.after": "after adjustment",
    "survival.hr_time_varying": "Hazard ratio from the start (right)",
    "survival.hr_ever": "Hazard ratio 'ever participated' (biased)",
    "survival.immortal_caption": "Leaving for work and programmes: time-varying term versus 'ever participated'",
    "survival.immortal_note": "Hazard ratio with 95% interval. Both from the same model; only the way participation counts differs.",
    "survival.medians_caption": "Median duration of a bijstand benefit per target group (months)",
    "covariate.age_sq": "age (squared)",
    "covariate.log_spell_month": "benefit duration (log)",
    "covariate.side_job_before": "work alongside bijstand (month before)",
    # ---------------------------------------------------------------- chapters
    "chapter.dashboard": "At a glance",
    "chapter.data": "Data and processing",
    "chapter.flows": "Where are people after 6, 12 and 18 months?",
    "chapter.typology": "Types of recipients, re-entry and the first job",
    "chapter.careers": "Careers after leaving for work",
    "chapter.survival": "How long does bijstand last, and who comes back?",
    "chapter.benchmark": "The own municipality against the others",
    "benchmark.intro": "How does the municipality do compared with other municipalities? A raw comparison misleads when municipalities differ in who is on bijstand. So next to every outcome stands what you would **expect** with this population (age, sex, migration background, education, household, duration on bijstand) if the municipality worked like the average of all municipalities compared (indirect standardisation). The difference observed minus expected is the part the composition does not explain.",
    "benchmark.absent": "There is no comparison with other municipalities: the benefits table has no municipality column (the CBS code of the paying municipality), or it holds only one municipality.",
    "benchmark.funnel_caption": "Observed minus expected per municipality, by number of persons ({indicator})",
    "benchmark.funnel_note": "Funnel plot (Spiegelhalter 2005): the dashed lines are the limits within which 95% and 99.8% of municipalities would fall if they differed from the average by chance alone. Small municipalities naturally lie further from zero. The own municipality is marked.",
    "benchmark.ranking_caption": "Municipalities ranked by observed minus expected, with 95% interval",
    "benchmark.ranking_note": "Note: ranks are uncertain. The interval of the rank (bootstrap) shows how many places a municipality may move; municipalities whose intervals overlap are not clearly different. Municipalities and outcomes with too few persons are not shown.",
    "benchmark.indicator": "Outcome",
    "benchmark.municipality": "Municipality",
    "benchmark.observed": "Observed",
    "benchmark.expected": "Expected",
    "benchmark.difference": "Difference",
    "benchmark.rank": "Rank [interval]",
    "benchmark.own": "own municipality",
    "benchmark.outflow_to_work": "outflow to work within 12 months",
    "benchmark.sustainable_outflow": "sustainable outflow (in work, off bijstand at 12 months)",
    "benchmark.reentry_12m": "back on bijstand within 12 months",
    "benchmark.median_duration": "median duration until leaving (months)",
    "benchmark.persons": "Persons",
    "benchmark.x_label": "persons x reference dates (a person counts on every reference date on bijstand)",
    "benchmark.y_label": "observed minus expected (percentage points)",
    "chapter.effects": "Which programme works for whom?",
    "chapter.methods": "Methods",
    "nav.dashboard": "At a glance",
    "nav.data": "Data",
    "nav.flows": "Flows",
    "nav.typology": "Types and jobs",
    "nav.careers": "Careers",
    "nav.survival": "Duration and re-entry",
    "nav.effects": "Effects",
    "nav.benchmark": "Benchmark",
    "nav.methods": "Methods",
    # ---------------------------------------------------------------- dashboard
    "dashboard.intro": "This report describes what happens to people on social assistance (bijstand) in {municipality}: where they are 6, 12 and 18 months later, how lasting the move into work is, who comes back onto bijstand (re-entry), and which reintegration programmes make a difference for which groups. This first page summarises the main results; the chapters after it give the details and the methods.",
    "dashboard.kpi_stock": "persons on bijstand on {date}",
    "dashboard.kpi_work": "of those who left bijstand in {year} are in work without bijstand {h} months later",
    "dashboard.kpi_reentry": "of those who left bijstand in {year} are back on bijstand within {h} months (re-entry)",
    "dashboard.kpi_median": "months: half of all bijstand spells last at least this long (median)",
    "dashboard.kpi_programmes": "programmes studied with a demonstrably positive effect on sustainable outflow",
    "dashboard.flow_table_caption": "Status of the {cohort} after {horizons} months (persons and share)",
    "dashboard.flow_table_note": "Counts rounded to 5; x = suppressed (fewer than 10 persons, or hidden to protect another cell). Shares are of the whole cohort (first row).",
    "dashboard.sankey_caption": "Flows between 6, 12 and 18 months after the start: {cohort}",
    "dashboard.sankey_note": "The width of a flow is the number of persons who took that path; the blocks carry the counts of the table beside it. Paths of fewer than 10 persons are not drawn one by one (in the interactive version: together, in grey).",
    "dashboard.outflow_caption": "Share still on bijstand by duration of the benefit",
    "dashboard.outflow_note": "Kaplan-Meier estimate per bijstand spell, with a 95% confidence band for the total. Spells that began before the study window count from their duration at the window's start (left truncation).",
    "dashboard.reentry_caption": "Re-entry: share back on bijstand by time since leaving",
    "dashboard.reentry_note": "Kaplan-Meier estimate of the chance of re-entry, by destination on leaving.",
    "dashboard.programme_caption": "Which programme works for whom? Effect on sustainable outflow (no bijstand in months 6 to 18 after the start), in percentage points",
    "dashboard.programme_note": "For each target group (row) and programme (column): the estimated effect of starting the programme now rather than not (yet), on the share off bijstand in months 6 to 18 after the start (doubly robust estimate, DML), with the 95% confidence interval in brackets and the number of participants (n). **Bold**: a demonstrable effect. For all participants: the interval lies wholly above or below zero. For a target group also after correcting for the number of groups examined (false discovery rate 5%, Benjamini and Hochberg 1995) and only with at least {min_n} participants: with this many comparisons a few 'significant' results would otherwise be expected by chance. Groups with fewer than 10 participants are not shown (x).",
    "dashboard.programme_row": "Target group",
    # ---------------------------------------------------------------- data
    "data.intro": "This chapter shows what the report rests on: the study window, the input files (with their fingerprints), what was checked on reading them, which tables the run wrote and with which software. The disclosure rules are in appendix A. The report reads only the protected tables in the folder `tables/`; no data on individual persons enter it.",
    "data.settings_caption": "Settings of this run",
    "data.setting": "Setting",
    "data.value": "Value",
    "data.municipality": "Municipality",
    "data.window": "Study window",
    "data.seed": "Random seed",
    "data.horizons": "Horizons (months)",
    "data.language": "Language",
    "data.simulated": "Simulated data",
    "data.yes": "yes",
    "data.no": "no",
    "data.inputs_caption": "Input files with their fingerprints (SHA-256, first 16 characters)",
    "data.file": "File",
    "data.bytes": "Size (bytes)",
    "data.hash": "SHA-256",
    "data.cleaning_caption": "Checks on reading: rows kept, merged and rejected per file",
    "data.cleaning_note": "Every input row is counted. Rejected rows were not used; the reason is given.",
    "data.table": "Table",
    "data.outcome": "Outcome",
    "data.reason": "Reason",
    "data.rows": "Rows",
    "data.outcome.kept": "kept",
    "data.outcome.merged": "merged",
    "data.outcome.rejected": "rejected",
    "data.reason.valid": "valid rows kept",
    "data.reason.duplicates": "exact duplicate rows merged into one",
    "data.reason.unlinked": "person_id not in persons (study.unlinked = 'reject')",
    "data.reason.rinpersoons": "rinpersoons is not 'R': cannot be linked to the population register",
    "data.reason.no_file": "no file: empty table",
    "data.reason.contiguous": "contiguous spells of the same benefit merged",
    "data.reason.dropped_columns": "dropped unknown column(s): {columns}",
    "data.reason.window": "study window {start} to {end} ({source})",
    "data.reason.window_unknown": "study window unknown: no dates in study.toml or the spell tables",
    "data.source.file": "from {file}",
    "data.source.partly": "partly from {file}, partly from the spell dates",
    "data.source.spells": "from the spell dates, rounded to whole months",
    "data.tables_caption": "Protected tables this report rests on",
    "data.table_file": "Table",
    "data.table_rows": "Rows",
    "data.table_missing": "missing",
    "data.tables_note": "Missing tables were not made in this run; the corresponding parts of the report are left out.",
    "data.disclosure_title": "Disclosure control",
    "data.disclosure": "Every number in this report has passed the package's disclosure control, following the rules for output from the CBS Remote Access environment: every published cell rests on at least 10 persons; counts are rounded to a multiple of 5; a cell that could be worked out from row or column totals is suppressed too (secondary suppression); shares have a denominator of at least 10 persons; quantiles (such as the median wage) rest on at least 100 persons and never on the smallest or largest amount; figures show group averages and shares only, never individual persons; model output has at least 10 degrees of freedom. Suppressed cells are shown as *x* in the tables.",
    "data.versions_caption": "Software versions",
    "data.package": "Package",
    "data.version": "Version",
    # ---------------------------------------------------------------- flows
    "flows.intro": "A **stock cohort** is everyone on bijstand on a reference date (1 January); an **outflow cohort** is everyone who left bijstand in a calendar year. For both, the status 6, 12 and 18 months later is shown: *bijstand*, *work* (without bijstand), *bijstand with work* (bijstand alongside a job), *WW* (unemployment benefit), or *other* (for example another benefit, study, or no income).",
    "flows.outflow_caption": "Outflow cohorts: status after {h} months",
    "flows.stock_caption": "Stock cohorts: status after {h} months",
    "flows.cohort": "Cohort",
    "flows.bars_caption": "{kind}: status after {horizons} months per cohort (number of persons)",
    "flows.groups_caption": "Status after {h} months by target group: {cohort}",
    "participation.absent": "**Participation beyond paid work** was not measured in this run: the input folder had no `participation` table (the municipality's own registration, e.g. its participation ladder, of volunteering, education, informal care, social activation or other activities). Add `participation.csv` to see here, next to outflow, how many people take part, and to estimate the programmes' effects on participation.",
    "participation.no_cohort": "The participation table is present, but no stock cohort has a follow-up inside the study window (or every cell is suppressed).",
    "participation.intro": "**Participation beyond paid work.** Many people on bijstand are far from the labour market; municipalities therefore also steer on taking part: volunteering, education, informal care or social activation. The table puts, for the stock cohort, the share in work next to the share taking part in an activity on the same date (as the municipality registers it). A person may do several activities at once: 'any activity' counts them once.",
    "participation.caption": "Work and participation after 6, 12 and 18 months: {cohort} (share of the cohort)",
    "participation.note": "Shares of the whole cohort, computed from the rounded counts. Work = status work (without bijstand); off bijstand = work, WW or other. An x: suppressed (fewer than 10 persons, or to protect another cell). By target group and by status on the date: table participation.csv.",
    "participation.horizon": "After",
    "participation.effects_absent": "Effects on **participation** (taking part in volunteering, education, informal care or social activation 18 months after the start) were not estimated: the input had no `participation` table.",
    "participation.effects_intro": "The tables above also show the effects on **participation**: the difference in the share taking part in an activity 18 months after the start (*participating*) or volunteering, as the municipality registers it. A programme that changes little about work may still get more people to take part.",
    "participation.in_work": "Work",
    "participation.off_bijstand": "Off bijstand",
    "participation.activity.any": "Any activity",
    "participation.activity.volunteering": "Volunteering",
    "participation.activity.education": "Education",
    "participation.activity.informal_care": "Informal care",
    "participation.activity.social_activation": "Social activation",
    "participation.activity.other": "Other",
    "flows.groups_note": "Number of persons per target group, rounded to 5. An x marks a suppressed cell (fewer than 10 persons, or suppressed to protect another cell): its count is unknown and not in the bar.",
    # ---------------------------------------------------------------- typology
    "typology.intro": "Each cohort member gets one type from the 18 months after the start: **continuously on bijstand** (stock cohorts only), **sustainable outflow to work** (in work without bijstand at every month after leaving), **short outflow** (back on bijstand within the period), **left, not steadily in work** (did not come back, but not in work throughout) and **recidivist** (two or more re-entries in the study window).",
    "typology.types_caption": "Types per cohort (number of persons)",
    "typology.profile_caption": "Characteristics per type: {cohort} (share within the type)",
    "typology.profile_note": "Percentages within each type per characteristic, computed from the counts shown; x = suppressed.",
    "typology.group": "Characteristic",
    "typology.reentry_caption": "Re-entry within {h} months of leaving, per outflow cohort and destination",
    "typology.reentry_note": "Share starting a new bijstand benefit within {h} months of the end of the previous one, with 95% confidence interval (Wilson).",
    "typology.reentry_table_caption": "Re-entry after leaving: {cohort}",
    "typology.destination": "Destination on leaving",
    "typology.within": "Within {h} mo",
    "typology.jobs_caption": "The first job after leaving for work: contract, hours and sector (all outflow cohorts together)",
    "typology.jobs_note": "Share of all first jobs (all outflow cohorts together); suppressed cells are not in the bars, which are therefore lower bounds.",
    "typology.retention_caption": "Still off bijstand after leaving for work, by kind of first job: {cohort}",
    "typology.retention_note": "Share not on bijstand 6, 12 and 18 months after leaving for work, with 95% confidence interval.",
    "typology.wages_caption": "Gross monthly wage of the first job (euros): quartiles per outflow cohort",
    "typology.wages_note": "Quartiles only with at least 100 persons with a known wage (stricter rule for incomes); never the lowest or highest wage.",
    "typology.q25": "25% earn less than",
    "typology.q50": "Median",
    "typology.q75": "75% earn less than",
    "typology.programme_caption": "Sustainable versus short outflow, programme participants versus non-participants",
    "typology.programme_note": "Among those who left (for work for good, or for a while): the share who left for good, for those who took part in a programme before the cohort began and for those who did not, and the difference in percentage points (95% interval, Newcombe). This is a description, not an effect: participants differ in other ways too.",
    "typology.participants": "Participants",
    "typology.non_participants": "Non-participants",
    "typology.difference": "Difference (pp)",
    # ---------------------------------------------------------------- careers
    "careers.intro": "For everyone who left bijstand for work, the situation in each month after leaving is known: permanent or fixed-term work (*stable work*), agency or on-call work (*flexible work*), bijstand, bijstand with work, WW or other. Careers that resemble each other (optimal matching) are grouped into clusters. The figure shows, per cluster, the share in each situation per month: never individual careers.",
    "careers.clusters_caption": "Clusters of careers after leaving for work",
    "careers.cluster": "Cluster",
    "careers.label": "Most common situation",
    "careers.states_caption": "Situation per month after leaving for work, per cluster",
    "careers.profile_caption": "Characteristics per cluster (share within the cluster)",
    "careers.mostly": "mostly {state}",
    "careers.month": "Month after leaving",
    # ---------------------------------------------------------------- survival
    "survival.intro": "This chapter follows bijstand benefits over time: how fast do people leave, where to, and how fast do they come back? Time counts in months since the benefit began. Benefits still running at the end of the window count for as long as they were followed (right censoring).",
    "survival.outflow_caption": "Share still on bijstand by duration, per target group",
    "survival.outflow_note": "Kaplan-Meier estimates with left truncation; the band is for the total.",
    "survival.cif_caption": "Leaving for work and for elsewhere: cumulative incidence versus 1 − Kaplan-Meier",
    "survival.cif_note": "Solid lines: cumulative incidence (Aalen-Johansen) of leaving for work and for elsewhere (WW, other), with 95% band. Dotted: the wrong estimate 1 − Kaplan-Meier for leaving for work, which treats the other destinations as censored.",
    "survival.competing_title": "Why not 1 − Kaplan-Meier?",
    "survival.competing": "A Kaplan-Meier curve for leaving for work treats everyone who left for another destination (WW, other) as if they could still have left for work later. They cannot: whoever moved to WW has already left this benefit. So 1 − Kaplan-Meier overstates the share leaving for work, the more so the more people leave elsewhere. The cumulative incidence counts each destination only for those still on bijstand at the time; the destinations and 'still on bijstand' add up to 100%.",
    "survival.reentry_caption": "Re-entry by destination on leaving and by the first job's contract",
    "survival.reentry_note": "Kaplan-Meier estimate of the share back on bijstand, by months since leaving.",
    "survival.hazards_caption": "Hazard ratios: who leaves for work faster, and who comes back sooner?",
    "survival.hazards_note": "Hazard ratio with 95% interval (log scale), from Cox models with all characteristics at once. Above 1: faster (leaving for work, left) or more often back (re-entry, right) than the reference group (man, 18-26, Dutch origin, single, low education; for re-entry: left for work with a permanent contract of 24 hours or more). Programmes count from their start month (time-varying). Hazard ratios of programmes are not effects: see the chapter 'Which programme works for whom?'.",
    "survival.model.exit_to_work": "Leaving for work",
    "survival.model.reentry": "Re-entry",
    "survival.model.exit_elsewhere": "Leaving for elsewhere",
    "survival.ph_caption": "Test of proportional hazards: terms that deviate",
    "survival.ph_tests_used": "Tested with {tests}.",
    "survival.ph_test.schoenfeld": "the scaled Schoenfeld residuals against the rank of time (Grambsch-Therneau)",
    "survival.ph_test.score": "a score test of each term's interaction with the logarithm of duration (on large registers)",
    "survival.ph_none": "For no term is there evidence against the proportional-hazards assumption (p ≥ 0.05). The concordance (C) is {concordance}.",
    "survival.ph_note": "For these terms the hazard ratio changes with duration; read their hazard ratio as an average over duration. Concordance (C): {concordance}.",
    "survival.term": "Term",
    "survival.model": "Model",
    "survival.p_value": "p-value",
    "survival.recommendation": "Advice",
    "survival.immortal_title": "Why do programmes count only from their start?",
    # ---------------------------------------------------------------- effects
    "effects.intro": "What does a programme achieve? Someone who starts a programme in a given month is compared with similar people who were on bijstand in that same month and did not (yet) start: same benefit duration, same calendar month, same characteristics and labour-market history. The effect thus measures what starting *now* achieves compared with *not now* (starting later remains possible). Three estimates are shown side by side: the raw difference, matching, and a doubly robust estimate with machine learning (DML); the last is the main result.",
    "effects.table_caption": "Effect on {outcome} for all participants: three estimation methods",
    "effects.forest_caption": "Effect on sustainable outflow per target group and programme (DML, percentage points)",
    "effects.forest_note": "Dot: estimated effect; line: 95% confidence interval. Right of the zero line: more sustainable outflow from starting now.",
    "effects.methods_caption": "What does adjustment change? Raw difference, matching and DML per programme and outcome (all participants)",
    "effects.methods_note": "The raw difference compares starters with everyone who did not start in the same month, without adjustment; matching and DML compare with similar non-starters. A large gap between raw and adjusted estimates shows how strong selection into programmes is.",
    "effects.balance_caption": "Comparability before and after matching: standardised differences in characteristics",
    "effects.balance_note": "Absolute standardised difference between participants and the comparison group per characteristic, before (open) and after (filled) adjustment. Below 0.1 (dotted line) counts as well balanced.",
    "effects.overlap_caption": "Overlap: participants without comparable non-participants",
    "effects.overlap_note": "Participants outside the common range of the propensity score do not count in the estimate.",
    "effects.n_treated": "Participants",
    "effects.n_off_support": "Without a comparable non-participant",
    "effects.propensity_caption": "Distribution of the chance to start (propensity score) for participants and non-participants",
    "effects.propensity_note": "Histogram per programme (share per class); aggregated classes only, no individual scores.",
    "effects.risk_log_caption": "Which programme starts were used?",
    "effects.risk_item": "Starts",
    "effects.estimate": "Effect",
    "effects.ci": "95% interval",
    "effects.programme": "Programme",
    "effects.pp": "pp",
    "effects.months_unit": "months",
    "effects.axis_pp": "Effect (percentage points)",
    "toe.title": "Selection on what the data do not show: the timing-of-events model",
    "toe.intro": "Matching and DML assume that those who start now and those who do not are comparable once their observed characteristics are the same. If caseworkers give programmes to people who would have left sooner anyway (for a reason outside the data, such as motivation), these methods overstate the effect. The timing-of-events model (Abbring and Van den Berg, 2003) allows for such unobserved differences: it estimates at once how fast people leave for work and how fast they start a programme, with a shared unknown trait per person. The effect then comes from the timing: does someone leave faster right after the start than comparable people who have not (yet) started?",
    "toe.absent": "The timing-of-events model was not estimated in this run (see the run log).",
    "toe.caption": "Three methods side by side: the timing-of-events model against matching and DML (all participants)",
    "toe.hr_post": "Hazard ratio work, after the programme",
    "toe.hr_lock_in": "Hazard ratio work, during the programme",
    "toe.implied_12m": "Timing of events: left bijstand within 12 months (pp)",
    "toe.method_outcome": "{method}: off bijstand after 12 months (pp)",
    "toe.note": "Hazard ratio: how much faster participants leave for work than without the programme (above 1: faster), with 95% interval; during the programme and after it separately. The third column translates the model into the probability of having left bijstand within 12 months of the start; matching and DML measure whether someone is off bijstand 12 months after the start. These outcomes are close but not the same (someone who leaves and returns counts only in the first). The model uses only benefit spells that began inside the data (inflow), because people already long on bijstand are selected in an unobserved way.",
    "toe.heterogeneity_none": "The model found no unobserved differences between persons (one group): it then amounts to a model with observed characteristics only, and there is no sign of selection on what the data do not show.",
    "toe.heterogeneity_found": "The model found {points} groups of persons who differ in unobserved ways. The correlation between the unknown chance of leaving for work and the unknown chance of starting a programme is {rho} (with two groups it is −1 or 1 by construction; only its sign counts).",
    "toe.selection_positive": "Those who leave for work faster for unobserved reasons also start programmes more often: matching and DML may then overstate the effect; the difference between the table's third column and matching and DML shows by how much.",
    "toe.selection_negative": "Those who leave for work faster for unobserved reasons start programmes less often: matching and DML may then understate the effect.",
    "toe.selection_none": "The unobserved chance of leaving is hardly related to the chance of starting: no sign of selection on what the data do not show.",
    "duration.title": "Effects over the whole duration, recent starts included",
    "duration.intro": "The tables above measure an effect at one moment (12 or 18 months after the start) and count only starts that could already be followed that long; the most recent starts drop out. Here is the effect of starting now on the share on bijstand and the share in work without bijstand in every month up to 36 months after the start, and on the expected number of months on bijstand. Every start counts for as long as the data run; one that could not yet be followed long enough is represented by comparable starts that could (weighting by the probability of not being censored).",
    "duration.curves_absent": "No effect curves over the whole duration were estimated.",
    "duration.curves_caption": "Effect of starting now on the share {outcome}, by month after the start (DML, percentage points)",
    "duration.curves_note": "Line: estimated effect; shaded: 95% interval per month; dashed lines: 95% band for the whole curve at once (use the band when reading several months together). Recent starts count too: a start that could not yet be followed for 36 months counts for as long as the data run (inverse probability of censoring weighting).",
    "duration.x_label": "Months after the start",
    "duration.y_label": "Effect (percentage points)",
    "duration.rmst_absent": "No effects on the expected time on bijstand were estimated.",
    "duration.rmst_caption": "Effect of starting now on the expected number of months on bijstand within 12, 18 and 36 months (all participants)",
    "duration.rmst_note": "Months; negative: shorter on bijstand. In brackets the 95% interval. The expected time within a horizon (restricted mean) is the sum of the probability of being on bijstand over the months up to that horizon; recent starts count with censoring.",
    "duration.rmst_horizon": "Within {months} months",
    "duration.starts": "Starts",
    "duration.method": "Method",
    "duration.horizon": "Horizon",
    "duration.estimate_months": "Effect (months)",
    "duration.sensitivity_absent": "There is no sensitivity analysis for the expected time on bijstand.",
    "duration.sensitivity_caption": "How sensitive is the effect on the expected time on bijstand to an unobserved difference between participants and others?",
    "duration.sensitivity_note": "Months. The robustness value is how strongly an unobserved factor (for example motivation) would have to be related to both participation and the time on bijstand (share of the remaining variation explained) for the 95% interval to include zero; 0% means the interval already includes zero. The range is the effect, uncertainty included, if such a factor of the stated strength exists, in the worst case (Chernozhukov et al. 2022). Recent starts count: the remaining variation of those not yet followed long enough is estimated by weighting with the probability of not being censored.",
    "duration.sensitivity_item": "**{programme}, time on bijstand within {months} months.**",
    # ---------------------------------------------------------------- methods appendix
    "methods.intro": "This appendix explains exactly what was estimated, under which assumptions, and how disclosure control works.",
    "methods.estimand_title": "What is estimated: starting now versus not now",
    "methods.estimand": "People start programmes at different moments of their benefit. The effect is therefore defined per start month (Sianesi 2004; Crépon et al. 2009): for someone who starts programme P in month *t* of the benefit, we compare the outcome with what would have happened had that person *not* started in month *t*, possibly starting later. The comparison group is everyone on bijstand in that month who had not yet started a programme in this benefit spell. The average over participants is the *average treatment effect on the treated* (ATT). The effect of 'never taking part' is a different question, which these data do not answer without further assumptions.",
    "methods.outcomes_title": "Outcomes",
    "methods.outcomes": "All outcomes are measured from the start month: *in work after 12 months* (work or bijstand with work at the month end 12 months after the start), *off bijstand after 12 months*, *sustainably off bijstand* (on bijstand at no month end from month 6 to 18 after the start) and the *number of months on bijstand* in the 18 months after the start. The first months of a programme often keep people from searching for work (the *lock-in* effect); that is why sustainable outflow is measured from month 6 only.",
    "methods.assumptions_title": "Assumptions, in plain words",
    "methods.assumptions": "1. **No anticipation.** Knowing that one will start a programme later does not change behaviour before the start.\n2. **Selection on observables.** Among people with the same characteristics, labour-market history, benefit duration and calendar month, whether someone starts now is unrelated to their chances of work. If case managers assign programmes on grounds not in the data (motivation, health), the estimates can be biased.\n3. **Overlap.** For every participant there are comparable people who did not start in that month. Participants without comparable non-participants are left out (see the overlap table).",
    "methods.estimators_title": "Estimators",
    "methods.estimators": "The **raw difference** compares starters with everyone who did not start in the same month. **Matching** finds for each participant the most similar non-participant (on the propensity score, exactly on calendar month and benefit duration) with a regression correction (Abadie and Imbens 2011); the standard errors (a bootstrap that re-estimates the propensity score and matches again in every replication, Otsu and Rai 2017; a naive bootstrap of a matching estimator is invalid, Abadie and Imbens 2008, and the estimated propensity score changes the variance, Abadie and Imbens 2016) account for one person serving as a comparison many times, appearing in many months, and for the propensity score being estimated itself. **DML** (double machine learning) combines a model for the chance to start with a model for the outcome; the estimate stays valid if either one is right (doubly robust), and the models are fitted on other persons than those they are applied to (cross-fitting; Chernozhukov et al. 2018). Effects per target group are the same estimate within the group (Knaus 2022).",
    "methods.duration_title": "Effects over the whole duration: censoring",
    "methods.duration": "The effect curves use the same design (starting now versus not starting now) and measure the share on bijstand, and the share in work without bijstand, in every month up to 36 months after the start. A recent start cannot yet be followed that long: the later months fall after the end of the data (censoring). Such a start counts for the months that are known; for the later months the starts that could be followed that long weigh more, by the probability of not being censored at the same characteristics (inverse probability weighting inside a doubly robust score, cross-fitted as in DML; Bang and Tsiatis 2000; for dynamic assignment Van den Berg and Vikström 2022). Because the end of the data depends only on the calendar month of the start, this rests on an assumption: at the same characteristics, history and benefit duration, the outcomes of recent starts run like those of earlier ones. A shock just before the end of the data (a recession) violates it. The expected time on bijstand within 12, 18 or 36 months is the sum of the curve up to that month. The band around a curve holds for the whole curve at once (a sup-t band from a multiplier bootstrap), the interval per month for that month only. The sensitivity analysis for hidden differences (Chernozhukov et al. 2022) also covers the expected time on bijstand; the remaining variation of that time is then estimated with the same weighting, so recent starts count, and censoring itself is assumed not to be affected by the hidden difference.",
    "methods.toe_title": "The timing-of-events model",
    "methods.toe": "The timing-of-events model (Abbring and Van den Berg, 2003) describes three chances in every month of a bijstand spell: leaving for work, leaving for another reason, and starting a first programme. Each depends on the benefit duration (by duration band), the observed characteristics of that month, and an unknown trait of the person. That trait takes a limited number of values (mass points), shared by all spells of the same person; points are added as long as the BIC criterion improves, as in the R package durmod. A programme's effect is a shift in the chance of leaving for work from the month after the start on, with a separate effect during the programme where it keeps people from applying for a while (lock-in). The model uses only spells that began inside the data. The assumptions: (1) no anticipation: the chance of leaving does not change before the start because someone knows it is coming; (2) mixed proportional hazards: the unknown trait multiplies the chances and does not depend on the observed characteristics; (3) the discrete distribution approximates the true one. Standard errors allow for several spells of the same person.",
    "methods.competing_title": "Competing risks: why not 1 − Kaplan-Meier",
    "methods.immortal_title": "Immortal-time bias: why not 'ever participated'",
    "methods.immortal": "Comparing 'ever participated' with 'never participated' makes a well-known error. To start a programme in month 10 of a benefit, a person must still be on bijstand in month 10: the months before the start are, by construction, months without outflow. An 'ever' indicator counts those months as participant time, and people who leave quickly never get the chance to start and count as non-participants. Participants then seem to leave more slowly, even if the programme does nothing. This report therefore counts someone as a participant only from the start month (a time-varying term), and the effect estimates always compare people at the same moment of their benefit.",
    "methods.disclosure_title": "Disclosure rules",
    "methods.disclosure": "The rules follow practice for output from CBS Remote Access (always check the current rules): at least 10 persons per cell; counts rounded to 5; secondary suppression so that no suppressed cell can be worked out from totals; zeros are suppressed too; shares only with a denominator of at least 10 and a complement of at least 10 persons; wage quantiles with at least 100 persons, never the minimum or maximum; models with at least 10 degrees of freedom; no individual points in figures. The package applies the rules before a table is written, and this report reads only those protected tables.",
    "methods.references_title": "References",
    "methods.references": "- Abadie, A. and G. Imbens (2008). On the failure of the bootstrap for matching estimators. *Econometrica* 76(6).\n- Abadie, A. and G. Imbens (2011). Bias-corrected matching estimators for average treatment effects. *Journal of Business & Economic Statistics* 29(1).\n- Abadie, A. and G. Imbens (2016). Matching on the estimated propensity score. *Econometrica* 84(2).\n- Crépon, B., M. Ferracci, G. Jolivet and G. J. van den Berg (2009). Active labor market policy effects in a dynamic setting. *Journal of the European Economic Association* 7(2-3).\n- Benjamini, Y. and Y. Hochberg (1995). Controlling the false discovery rate: a practical and powerful approach to multiple testing. *Journal of the Royal Statistical Society B* 57(1).\n- Chernozhukov, V. et al. (2018). Double/debiased machine learning for treatment and structural parameters. *The Econometrics Journal* 21(1).\n- Chernozhukov, V., C. Cinelli, W. Newey, A. Sharma and V. Syrgkanis (2022). Long story short: omitted variable bias in causal machine learning. NBER Working Paper 30302.\n- Knaus, M. C. (2022). Double machine learning-based programme evaluation under unconfoundedness. *The Econometrics Journal* 25(3).\n- Otsu, T. and Y. Rai (2017). Bootstrap inference of matching estimators for average treatment effects. *Journal of the American Statistical Association* 112(520).\n- Lechner, M. and C. Wunsch (2013). Sensitivity of matching-based program evaluations to the availability of control variables. *Labour Economics* 21.\n- Sianesi, B. (2004). An evaluation of the Swedish system of active labor market programs in the 1990s. *Review of Economics and Statistics* 86(1).\n- Vikström, J. (2017). Dynamic treatment assignment and evaluation of active labor market policies. *Labour Economics* 49.\n- Abbring, J. H. and G. J. van den Berg (2003). The nonparametric identification of treatment effects in duration models. *Econometrica* 71(5).\n- Bang, H. and A. A. Tsiatis (2000). Estimating medical costs with censored data. *Biometrika* 87(2).\n- Van den Berg, G. J. and J. Vikström (2022). Long-run effects of dynamically assigned treatments: a new methodology and an evaluation of training effects on earnings. *Econometrica* 90(3).",
    # ---------------------------------------------------------------- labels: statuses and types
    "status.bijstand": "bijstand",
    "status.werk": "work",
    "status.bijstand_met_werk": "bijstand with work",
    "status.ww": "WW (unemployment benefit)",
    "status.overig": "other",
    "destination.all": "all destinations",
    "destination.werk": "to work",
    "destination.ww": "to WW",
    "destination.overig": "to other",
    "destination.elsewhere": "elsewhere (WW, other)",
    "type.continuous": "continuously on bijstand",
    "type.sustainable_work": "sustainable outflow to work",
    "type.short_outflow": "short outflow (back on bijstand)",
    "type.outflow_elsewhere": "left, not steadily in work",
    "type.recidivist": "recidivist (repeated re-entry)",
    "state.stable_work": "stable work (permanent, fixed-term)",
    "state.flexible_work": "flexible work (agency, on-call)",
    "state.work_unknown_contract": "work, contract unknown",
    "state.bijstand_met_werk": "bijstand with work",
    "state.bijstand": "bijstand",
    "state.ww": "WW",
    "state.overig": "other",
    "cohort.stock": "stock on {date}",
    "cohort.outflow": "outflow cohort {year}",
    "cohort.stock_short": "stock {date}",
    "cohort.outflow_short": "outflow {year}",
    "horizon.short": "{h} mo",
    # ---------------------------------------------------------------- labels: groups
    "dim.all": "total",
    "dim.sex": "sex",
    "dim.age": "age",
    "dim.migration": "origin",
    "dim.household": "household",
    "dim.education": "education",
    "dim.duration": "time on bijstand",
    "dim.programme": "programme",
    "dim.destination": "destination",
    "dim.contract": "first job's contract",
    "dim.hours": "first job's hours",
    "dim.hours_band": "first job's hours",
    "dim.sector": "first job's sector",
    "group.all": "Everyone",
    "group.sex=M": "men",
    "group.sex=F": "women",
    "group.age=18-26": "aged 18-26",
    "group.age=27-49": "aged 27-49",
    "group.age=50+": "aged 50 and over",
    "group.migration=dutch": "Dutch origin",
    "group.migration=europe": "European origin (excl. the Netherlands)",
    "group.migration=outside_europe": "origin outside Europe",
    "group.migration=western": "western migration background (CBS classification before 2022)",
    "group.migration=non_western": "non-western migration background (CBS classification before 2022)",
    "group.migration=unknown": "origin unknown",
    "group.household=single": "single",
    "group.household=single_parent": "single parent",
    "group.household=couple_no_children": "couple without children",
    "group.household=couple_with_children": "couple with children",
    "group.household=child_at_home": "child living at home",
    "group.household=other": "other household",
    "group.household=unknown": "household unknown",
    "group.education=low": "low education",
    "group.education=medium": "medium education",
    "group.education=high": "high education",
    "group.education=unknown": "education unknown",
    "group.duration=<1y": "less than 1 year on bijstand",
    "group.duration=1-2y": "1-2 years on bijstand",
    "group.duration=2-5y": "2-5 years on bijstand",
    "group.duration=5+y": "5 years or more on bijstand",
    "group.programme=yes": "programme participant",
    "group.programme=no": "no programme",
    "group.destination=werk": "left for work",
    "group.destination=ww": "left for WW",
    "group.destination=overig": "left for other",
    "group.contract=permanent": "permanent contract",
    "group.contract=fixed_term": "fixed-term contract",
    "group.contract=agency": "agency work",
    "group.contract=on_call": "on-call work",
    "group.contract=unknown": "contract unknown",
    "group.contract=none": "no job",
    "group.hours=<12": "under 12 hours",
    "group.hours=12-19": "12 to 19 hours",
    "group.hours=20-34": "20 to 34 hours",
    "group.hours=35+": "35 hours or more",
    "group.hours=unknown": "hours unknown",
    "group.status_holder=yes": "refugee with residence permit (statushouder)",
    "group.status_holder=no": "not a statushouder",
    # ---------------------------------------------------------------- labels: effects
    "outcome.employed_12m": "in work after 12 months",
    "outcome.off_bijstand_12m": "off bijstand after 12 months",
    "outcome.off_bijstand_6_18m": "sustainably off bijstand (months 6-18)",
    "outcome.months_bijstand_18m": "months on bijstand (18 months after the start)",
    "outcome.participating_18m": "participating (18 months after the start)",
    "outcome.volunteering_18m": "volunteering (18 months after the start)",
    "outcome.on_bijstand": "on bijstand",
    "outcome.work_off_bijstand": "in work without bijstand",
    "outcome.rmst_bijstand_12m": "expected months on bijstand within 12 months",
    "outcome.rmst_bijstand_18m": "expected months on bijstand within 18 months",
    "outcome.rmst_bijstand_36m": "expected months on bijstand within 36 months",
    "method.naive": "raw difference",
    "method.matching": "matching",
    "method.dml": "DML (doubly robust)",
    "programme.job_coaching": "job coaching",
    "programme.training": "training",
    "programme.work_experience": "work-experience placement",
    "programme.participation": "participation programme",
    "programme.wage_subsidy": "wage-cost subsidy",
    "programme.application_training": "application training",
    # ---------------------------------------------------------------- labels: hazard-model terms
    "term.status_holder": "statushouder (refugee with permit)",
    "term.side_job": "work alongside bijstand",
    "term.hist_employed_36m": "years in work in the 3 years before",
    "term.hist_bijstand_36m": "years on earlier bijstand in the 3 years before",
    "term.hist_ww_36m": "years on WW in the 3 years before",
    "term.year": "year {value}",
    "term.programme": "programme: {value}",
    "term.lock_in": "during programme: {value}",
    "term.exit=ww": "left for WW (vs. work)",
    "term.exit=overig": "left for other (vs. work)",
    "term.job_hours=<12": "first job under 12 hours",
    "term.job_hours=12-23": "first job 12 to 23 hours",
    "term.job_hours=unknown": "first job, hours unknown",
    "term.spell_duration=12-35": "1 to 3 years on bijstand before leaving",
    "term.spell_duration=36+": "3 years or more on bijstand before leaving",
    "covariate.age": "age",
    "covariate.spell_month": "benefit duration (months)",
    "covariate.calendar": "calendar month",
    "covariate.side_job": "work alongside bijstand",
    "covariate.status_holder": "statushouder",
    "covariate.hist_employed_36m": "months in work (3 years before)",
    "covariate.hist_bijstand_36m": "months on bijstand (3 years before)",
    "covariate.hist_ww_36m": "months on WW (3 years before)",
    # ---------------------------------------------------------------- risk-set log
    "risklog.programme starts in the input": "programme starts in the input",
    "risklog.start before or after the window": "start before or after the study window",
    "risklog.start not within a bijstand spell": "start not during a bijstand benefit",
    "risklog.later start in a spell that already had a programme": "later start in a spell that already had a programme",
    "risklog.two different programmes started in the same month": "two different programmes started in the same month",
    "risklog.start too late for an 18-month follow-up": "start too late for an 18-month follow-up inside the window",
    "risklog.starts used as time zero": "starts used (time zero)",
    # ---------------------------------------------------------------- summary, conclusions, limitations (issue 13)
    "chapter.conclusions": "Conclusions",
    "dashboard.kpi_programmes_value": "{j} of {k}",
    "data.reason.migration_pre_2022": "origin in the CBS classification before 2022 (western/non-western), converted to the 2022 one: western → Europe, non-western → outside Europe. Non-western lies wholly outside Europe; western also included Indonesia, Japan, North America and Oceania, now outside Europe (an approximation)",
    "chapter.diagnostics": "Diagnostics",
    "nav.diagnostics": "Diagnostics",
    "diagnostics.intro": "The estimators' checks: do the predicted differences in effect between groups hold up (calibration), do the hazard models' assumptions hold, are participants and comparison group alike after matching (balance), does every participant have comparable non-participants (overlap), and how many starts and comparisons were used.",
    "effects.policy_title": "Which programme for which group?",
    "effects.policy_untested": "This run did not test whether the effect differs between groups; so no assignment rule is shown here.",
    "overig_detail.other_benefit": "another benefit (for example disability, survivors', state pension)",
    "overig_detail.no_work_or_benefit": "no registered work or benefit",
    "dashboard.cohort_size": "Cohort (persons)",
    "dashboard.small_paths": "small paths (fewer than 10 persons each)",
    "dashboard.overig_detail": "of which {detail}",
    "findings.title_groups": "By target group",
    "chapter.limitations": "Limitations and robustness",
    "nav.conclusions": "Conclusions",
    "nav.limitations": "Limitations",
    "summary.what_works_title": "What works?",
    "summary.what_works_lead": "Effect of starting a programme now, rather than not (yet), on sustainable outflow (no bijstand in months 6 to 18 after the start), in percentage points with 95% confidence interval ({method}):",
    "summary.programme_suppressed": "{programme}: too few participants to show an effect.",
    "summary.groups_line": "{programme}, by target group: {findings}.",
    "summary.groups_positive": "demonstrably more sustainable outflow for {groups}",
    "summary.groups_negative": "demonstrably less sustainable outflow for {groups}",
    "summary.targeting_yes": "The effect demonstrably differs between target groups for {programmes}; the assignment rule is in the chapter on effects.",
    "summary.targeting_no": "The data give no basis for targeting programmes at groups: for no programme does the effect demonstrably differ between groups (test for differences in effect, corrected for the number of programmes).",
    "summary.participation_lead": "Taking part beyond paid work (the municipality's registration; {method}): the effect on the chance of taking part in an activity 18 months after the start (volunteering, education, informal care, social activation or other).",
    "summary.caveat": "Main caveat: participants are compared with people who were similar on the registered characteristics at the same point in their benefit spell. If caseworkers assign programmes on something that is not registered (motivation, health), the effects can be biased; the chapter on limitations shows how strong such a difference would have to be.",
    "summary.caseload_caption": "The caseload: persons on bijstand on {date}, by duration of the benefit so far",
    "summary.caseload_note": "Counts rounded to 5; x = suppressed (fewer than 10 persons). Shares of the whole caseload.",
    "summary.caseload_total": "Total",
    "summary.duration": "Duration of the benefit",
    "findings.no_difference": "For the other {n} target groups there is no demonstrable effect of {programme}.",
    "findings.suppressed": "For {n} target group(s) there are too few participants to show an effect.",
    "findings.note": "For all participants together an effect counts as demonstrable when its 95% interval lies wholly above or below zero. A target group counts as a finding only when its effect differs from zero also after correcting for the number of groups examined (false discovery rate {alpha}; Benjamini and Hochberg 1995) and the group has at least {min_n} participants. Estimate: {method}.",
    "programmes.none_described": "The programmes are not described in this run (the study settings give no names, descriptions or costs).",
    "programmes.caption": "The programmes evaluated",
    "programmes.description": "Description",
    "programmes.participants": "Participants",
    "programmes.cost": "Cost per participant",
    "programmes.note": "Description and cost as given by the municipality. Participants: persons who started the programme in the study window (rounded to 5).",
    "conclusions.intro": "What the evaluation concludes, programme by programme. Effects on sustainable outflow ({method}) in percentage points, with 95% confidence interval.",
    "conclusions.groups": "By target group: {findings}.",
    "conclusions.no_groups": "No target group shows a demonstrable effect of its own after correcting for the number of groups examined (groups are smaller than the whole, so their intervals are wider).",
    "conclusions.agree": "{other} gives a similar picture: {estimate} percentage points ({interval}).",
    "conclusions.disagree": "{other} gives a different picture: {estimate} percentage points ({interval}); the intervals do not overlap, so the choice of method matters and the result is uncertain.",
    "conclusions.robust": "A hidden difference between participants and others would have to explain {rv} of the remaining variation in both participation and outcome to overturn this conclusion.",
    "conclusions.fragile": "Note: a hidden difference explaining only {rv} of the remaining variation in both participation and outcome would be enough to overturn this conclusion; it is therefore sensitive to unregistered differences.",
    "conclusions.targeting_yes": "The effect demonstrably differs between target groups for {programmes}. The assignment rule in the chapter on effects shows which groups benefit most; its gain is uncertain (see the intervals).",
    "conclusions.caveat": "These conclusions hold under the assumptions of the next chapter. They concern the effect of starting now rather than not (yet), for people like the participants.",
    "conclusions.no_effects": "No programme effects were estimated in this run.",
    "costs.none": "No cost per participant was given; the cost per extra sustainable exit cannot be computed.",
    "costs.caption": "Cost per extra sustainable exit",
    "costs.per100": "Extra sustainable exits per 100 participants",
    "costs.per_exit": "Cost per extra sustainable exit",
    "costs.not_defined": "not defined (no demonstrably positive effect)",
    "costs.note": "Cost per participant divided by the effect per participant ({method}); in brackets the range that goes with the effect's 95% interval. Only for programmes with a demonstrably positive effect. Costs are the average costs the municipality gives.",
    "limitations.selection_title": "Selection on registered characteristics",
    "limitations.selection": "The effects compare those who started a programme in a given month of their benefit spell with people who were then similar on the registered characteristics (age, sex, household, origin, education, work history, benefit duration, calendar month) but had not (yet) started. That is a fair comparison only if assignment is otherwise unrelated to the chances of finding work. Caseworkers know motivation, health and language skills; if these drive assignment, the effects are biased, in a direction that is not known beforehand. How well this approach works depends strongly on how rich the work history in the data is (Lechner and Wunsch 2013).",
    "limitations.lockin_title": "Lock-in within the horizon",
    "limitations.lockin": "During a programme participants search less for work (lock-in). The main outcome therefore starts counting from month 6 after the start. If a programme lasts longer (training, work-experience placement), part of the lock-in falls within the measurement period and the outcome understates a later effect. The outcomes after 12 months and the months on bijstand in the chapter on effects show how the picture changes with the horizon.",
    "limitations.multiple_title": "Many comparisons at once",
    "limitations.multiple": "With several programmes and over twenty target groups, nearly a hundred effects are estimated; at 95% confidence a few 'significant' results are expected by chance. This report therefore calls a target group a finding only when its effect differs from zero also after correcting for the number of groups (false discovery rate {alpha}; Benjamini and Hochberg 1995) and the group has at least {min_n} participants. An assignment rule by target group is shown only when a test for differences in effect between groups gives reason to.",
    "limitations.sensitivity_title": "Sensitivity to hidden differences",
    "limitations.sensitivity": "How strong would an unregistered difference between participants and others have to be to change the conclusions? The sensitivity analysis (Chernozhukov et al. 2022) gives each programme's robustness value: the share of the remaining variation in both participation and outcome such a difference would have to explain. By programme:",
    "limitations.disclosure_title": "Confidentiality",
    "limitations.disclosure": "All counts are rounded to 5 and cells of fewer than 10 persons are suppressed. Tables therefore do not always add up exactly and small groups are missing; effects for groups with fewer than 10 participants are not shown.",
    "limitations.dynamic_title": "What the effect does and does not say",
    "limitations.dynamic": "The effect is that of starting now rather than not (yet); people in the comparison group may start later (Vikström 2017). It holds for people like the participants, not for everyone on bijstand, and it says nothing about consequences for people who do not take part (displacement).",
    "limitations.toe_title": "The timing-of-events model rests on assumptions of its own",
    "limitations.toe": "The timing-of-events model captures selection on what the data do not show, but only if nobody anticipates a coming start (someone who is called for a programme and therefore quickly finds work on their own violates it) and if the unknown trait shifts the chances of leaving proportionally. It uses only spells that began inside the data, so it says less about people who have been on bijstand for years. When the model and matching or DML clearly differ, one of these assumptions or selection is the cause: the data alone cannot tell which.",
    "truth.title": "Check: the estimates against the known truth",
    "truth.intro": "This report was made on the simulated example municipality, whose true effects are known. The table puts the estimates next to that truth: {covered} of the {total} 95% intervals (DML and matching) contain the true value. The naive difference shows how large the bias would be without adjustment.",
    "truth.caption": "Estimated and true effect on sustainable outflow, all participants (percentage points)",
    "truth.truth": "True effect",
    "truth.note": "True effect: the average effect on the participants in the simulation, known because the simulation knows both outcomes of every participant. In brackets the 95% confidence interval.",
}

TEXTS: dict[str, dict[str, str]] = {"nl": NL, "en": EN}

_MONTHS = {
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
           "oktober", "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
#: Reasons in the cleaning log (written in English by the validate module) -> text keys.
_REASONS = (
    (r"^valid rows kept$", "data.reason.valid"),
    (r"^exact duplicate rows merged", "data.reason.duplicates"),
    (r"^person_id not in persons", "data.reason.unlinked"),
    (r"^rinpersoons is not 'R'", "data.reason.rinpersoons"),
    (r"^no file: empty table$", "data.reason.no_file"),
    (r"^contiguous spells of the same benefit merged", "data.reason.contiguous"),
    (r"^dropped unknown column\(s\): (?P<columns>.*)$", "data.reason.dropped_columns"),
    (r"^window (?P<start>\d{4}-\d{2}-\d{2}) to (?P<end>\d{4}-\d{2}-\d{2}) \((?P<source>.*)\)$", "data.reason.window"),
    (r"^window unknown", "data.reason.window_unknown"),
    (r"^migration_background in the pre-2022 CBS classification", "data.reason.migration_pre_2022"),
)


def placeholders(text: str) -> set[str]:
    """The ``{name}`` placeholders of a text."""
    return set(_PLACEHOLDER.findall(text))


def check_language(lang: str) -> str:
    """The language code, or a ValueError listing the valid ones."""
    if lang not in TEXTS:
        raise ValueError(f"lang must be one of {list(LANGUAGES)}; found {lang!r}")
    return lang


class Translator:
    """Texts, labels and number formats of one language: ``t = Translator('nl'); t('chapter.flows')``."""

    def __init__(self, lang: str = DEFAULT_LANGUAGE, programme_names: dict[str, str] | None = None):
        self.lang = check_language(lang)
        self.texts = TEXTS[lang]
        #: the municipality's own programme names (study.toml, via programmes.csv) win over built-in ones
        self.programme_names = dict(programme_names or {})

    # ------------------------------------------------------------------ texts
    def __call__(self, key: str, **values) -> str:
        """The text under ``key`` with ``{placeholders}`` filled; a missing key is a KeyError."""
        text = self.texts[key]
        return text.format(**values) if values else text

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.texts.get(key, default)

    # ------------------------------------------------------------------ numbers and dates
    def number(self, x, decimals: int = 0) -> str:
        """1234.5 -> '1.234,5' (nl) or '1,234.5' (en); NA -> the suppression sign."""
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return self("report.suppressed")
        try:
            if x != x:  # pd.NA compares as NA; NaN != NaN
                return self("report.suppressed")
        except TypeError:
            return self("report.suppressed")
        s = f"{float(x):,.{decimals}f}"
        if self.lang == "nl":
            s = s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
        return s.replace("-", "−")

    def join(self, items) -> str:
        """[6, 12, 18] -> '6, 12 en 18' / '6, 12 and 18'."""
        items = [str(i) for i in items]
        if len(items) <= 1:
            return "".join(items)
        last = " en " if self.lang == "nl" else " and "
        return ", ".join(items[:-1]) + last + items[-1]

    def count(self, x) -> str:
        return self.number(x, 0)

    def percent(self, share, decimals: int = 0) -> str:
        """0.412 -> '41%'."""
        if share is None or share != share:
            return self("report.suppressed")
        return f"{self.number(100 * float(share), decimals)}%"

    def pp(self, x, decimals: int = 1, sign: bool = True) -> str:
        """Percentage points from a difference in shares: 0.042 -> '+4,2'."""
        if x is None or x != x:
            return self("report.suppressed")
        v = 100 * float(x)
        s = self.number(abs(v), decimals)
        if not sign:
            return self.number(v, decimals)
        nonzero = bool(s.strip("0,."))  # +0,0 and −0,0 read as 0,0
        return ("+" if v > 0 and nonzero else "−" if v < 0 and nonzero else "") + s

    def euro(self, x) -> str:
        if x is None or x != x:
            return self("report.suppressed")
        return f"€ {self.number(x, 0)}"

    def date(self, value) -> str:
        """'2016-01-01' -> '1 januari 2016' / '1 January 2016'."""
        import pandas as pd

        ts = pd.Timestamp(value)
        return f"{ts.day} {_MONTHS[self.lang][ts.month - 1]} {ts.year}"

    def month_label(self) -> tuple[str, ...]:
        return _MONTHS[self.lang]

    # ------------------------------------------------------------------ labels
    def status(self, s: str) -> str:
        return self.texts.get(f"status.{s}", str(s))

    def state(self, s: str) -> str:
        return self.texts.get(f"state.{s}", str(s).replace("_", " "))

    def type(self, s: str) -> str:
        return self.texts.get(f"type.{s}", str(s).replace("_", " "))

    def outcome(self, s: str) -> str:
        return self.texts.get(f"outcome.{s}", str(s).replace("_", " "))

    def method(self, s: str) -> str:
        return self.texts.get(f"method.{s}", str(s))

    def destination(self, s: str) -> str:
        return self.texts.get(f"destination.{s}", str(s))

    def dimension(self, s: str) -> str:
        return self.texts.get(f"dim.{s}", str(s).replace("_", " "))

    def programme(self, label: str) -> str:
        """A programme label from the municipality's file; known labels are translated."""
        label = str(label)
        if self.programme_names.get(label):
            return self.programme_names[label]
        known = self.texts.get(f"programme.{label}")
        if known:
            return known
        return label.replace("_", " ")

    def group(self, label: str) -> str:
        """A contract group label (``sex=F``, ``age=50+``, ``all``) in words."""
        label = str(label)
        if label in ("all", "nan", "<NA>"):
            return self("group.all")
        known = self.texts.get(f"group.{label}")
        if known:
            return known
        if "=" in label:
            dim, value = label.split("=", 1)
            if dim == "programme":
                return self.programme(value)
            return f"{self.dimension(dim)}: {value.replace('_', ' ')}"
        return label.replace("_", " ")

    def cohort(self, name: str, short: bool = False) -> str:
        """``stock_2016-01-01`` -> 'bijstandsbestand op 1 januari 2016'; ``outflow_2017`` -> 'uitstroomcohort 2017'."""
        name = str(name)
        suffix = "_short" if short else ""
        if name.startswith("stock_"):
            date = name[len("stock_"):]
            try:
                shown = self.date(date)
            except ValueError:
                shown = date
            return self(f"cohort.stock{suffix}", date=shown)
        if name.startswith("outflow_"):
            return self(f"cohort.outflow{suffix}", year=name[len("outflow_"):])
        return name.replace("_", " ")

    def term(self, term: str) -> str:
        """A hazard-model term (``age=50+``, ``programme=training``, ``hist_employed_36m``) in words."""
        term = str(term)
        known = self.texts.get(f"term.{term}")
        if known:
            return known
        if "=" in term:
            dim, value = term.split("=", 1)
            if dim in ("programme", "lock_in"):
                return self(f"term.{dim}", value=self.programme(value))
            if dim == "year":
                return self("term.year", value=value)
            if f"group.{term}" in self.texts:
                return self.texts[f"group.{term}"]
            if dim == "job_hours":
                return f"{self.dimension('hours')}: {value}"
        return self.group(term)

    def covariate(self, name: str) -> str:
        """A covariate of the effects' balance table in words (one-hot dummies as group labels)."""
        name = str(name)
        known = self.texts.get(f"covariate.{name}")
        if known:
            return known
        if name.startswith("migration_background="):
            name = "migration=" + name.split("=", 1)[1]
        if "=" in name:
            return self.term(name)
        return name.replace("_", " ")

    def cleaning(self, kind: str, value: str) -> str:
        """Outcome or reason of the cleaning log in words (unknown reasons are shown as given)."""
        value = str(value)
        if kind != "reason":
            return self.texts.get(f"data.{kind}.{value}", value)
        for pattern, key in _REASONS:
            m = re.match(pattern, value)
            if m:
                values = m.groupdict()
                if key == "data.reason.window":
                    values = {"start": self.date(values["start"]), "end": self.date(values["end"]),
                              "source": self._window_source(values["source"])}
                return self(key, **values)
        return value

    def _window_source(self, source: str) -> str:
        m = re.match(r"^partly from (?P<file>.+), partly from the spell dates$", source)
        if m:
            return self("data.source.partly", file=m["file"])
        if source.startswith("from the spell dates"):
            return self("data.source.spells")
        m = re.match(r"^from (?P<file>.+)$", source)
        return self("data.source.file", file=m["file"]) if m else source

    def risk_item(self, item: str) -> str:
        """An item of the risk-set log; matched on its opening words."""
        item = str(item)
        for key, text in self.texts.items():
            if key.startswith("risklog.") and item.startswith(key[len("risklog."):]):
                return text
        return item
