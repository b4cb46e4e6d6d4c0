// Package triage is the explainable triage engine: given what the triage nurse recorded it
// proposes an Emergency Severity Index (ESI v4) level with the decision point that fired and
// every input that made it fire, the NEWS2 early-warning score with its per-parameter points,
// qSOFA with its points, the target time to physician and the re-assessment interval.
//
// # Scope
//
// Decision support only. The engine proposes; a nurse confirms or overrides the level
// (CheckLevelChange enforces the ESI handbook's rules for overrides and re-triage). It may not
// replace clinical judgement. The package is pure Go with no I/O, no clock and no global
// mutable state: the same Input and EngineVersion always give the same Assessment, so an
// audited assessment can be replayed (triage-rules.md section 5).
//
// # Sources
//
// Every threshold comes from triage-rules.md, the clinical specification, and is cited next to its
// use ("triage-rules.md §n"):
//   - §1 ESI v4: AHRQ, "Emergency Severity Index, Version 4: Implementation Handbook" (2012).
//   - §2 NEWS2: Royal College of Physicians, "National Early Warning Score (NEWS) 2" (2017).
//   - §3 qSOFA: Seymour et al., JAMA 2016;315(8):762-774.
//   - §4 time to physician: CTAS time-to-physician objectives.
//
// The complaint vocabulary (data/complaints.csv), the lexicon that reads nurses' shorthand
// (data/lexicon.csv), the ordinary English words kept as written (data/plainwords.txt,
// generated from a dictionary), the learned second opinion's weights (data/model.json) and the
// resources estimated per complaint category (resources.go, categories) are engine choices,
// not thresholds from a standard. They are reviewable data and tables; their headers,
// comments and triage-rules.md §7 say where every row comes from, and their tests fail when a
// row is wrong or missing.
//
// # Missing data
//
// Missing data never makes a patient look less urgent than a recorded value would
// (triage-rules.md §5, §6: under-triage is the dangerous error). Every missing input is listed in
// Assessment.Missing with what was assumed for it, and is assumed at its most urgent value
// short of point A:
//   - heart rate, respiratory rate or SpO2 missing: the danger zone cannot be ruled out, so
//     point D, when reached, proposes 2;
//   - mental status missing: new confusion cannot be ruled out, so point B fires;
//   - pain score missing: pain >= 7 cannot be ruled out, so point B fires;
//   - temperature missing: fever cannot be ruled out wherever a fever rule applies
//     (immunocompromised, age up to 3 months: point B; 3 months - 3 years: go to D);
//   - age missing: the lowest danger-zone limits of the table, the fever rules as for a
//     neonate, NEWS2 scored as for an adult;
//   - expected resources not given: estimated from the complaint category or the recognised
//     complaints (and marked estimated), or assumed >= 2 when there is nothing to estimate
//     from; for patients aged 16 or more the learned second opinion makes point C's choice
//     among 3, 4 and 5 (triage-rules.md §7.5);
//   - NEWS2 and qSOFA: a missing parameter scores its maximum points (Complete is false and
//     MeasuredAggregate gives the sum over recorded parameters).
//
// Point A is a bedside judgement ("does this patient need an immediate life-saving
// intervention?"), so the engine never proposes level 1 from an absent measurement: a missing
// SpO2 or mental status is reported as "point A not excluded: assess now". Every missing
// input that could change the level makes the assessment Provisional. ESI's rule "no level
// without an assessment with vital signs, unless the patient is in extremis (point A)" is
// returned as Assessment.VitalsRequired: the engine still proposes a (conservative) level, but
// the service must not record a level while VitalsRequired is true. The vital signs required are heart rate, respiratory rate, SpO2 and
// temperature, plus systolic blood pressure when NEWS2 applies.
//
// # Boundaries
//
// Where two rows of a triage-rules.md table share a boundary, the engine applies the more urgent
// row: exactly 3 months uses the "3 months - 3 years" danger-zone limits and the "1-3 months"
// fever rule; exactly 3 years uses the "3 - 8 years" limits. Ages are held in days
// (1 year = 365.25 days, 1 month = 30.4375 days, rounded down), so 3 months = 91 days,
// 3 years = 1095 days, 8 years = 2922 days, 16 years = 5844 days. Temperatures are read at
// 0.1 C, the resolution of the NEWS2 chart. Where triage-rules.md says "consider 2" the engine
// proposes 2 and says why (as it says for point D); "consider 2 or 3" (fever at 3 months - 3
// years) sends the patient to point D, which decides between 2 and 3 from the danger zone.
// The fever threshold for "immunocompromised with fever" is the one §1 uses for fever,
// T > 38.0 C, and a fever reported in the complaint also counts for that rule and for infants
// up to 3 months. Immunocompromise written in the complaint (the vocabulary's
// immunocompromised complaint) counts for that rule as the nurse's flag does.
//
// # Complaint reading
//
// The chief complaint is read on whole words, never on substrings ("vomiting" does not contain
// the term "mi"), after lowercasing and dropping an apostrophe between letters ("can't" is
// "cant"); the lexicon expands shorthand ("SOB", "G/W", "Lt.", "cant"), reads a listed variant
// as its word wherever it is written ("vomit", "lethargic"), and a word of five letters or
// more that it does not know is corrected when it is within one edit (a letter missing, added,
// changed, or two neighbours swapped) of exactly one word or variant of that word
// ("unconsious"); within one edit of two words it stays unknown, and an ordinary English word
// (data/plainwords.txt) is kept as written ("worse" is not "worst"). Commas and parentheses
// separate phrases; the inverted form nurses use ("pain, chest") is read as one phrase.
// Negation is recognised only in its simplest forms: a cue ("no", "not", "denies", "without",
// "negative for", ...), optionally followed by "any", immediately before the phrase in the
// same clause ("no chest pain", "denies SI"), or a negation mark in brackets right after it,
// as findings are charted ("LOC (-)", "fever (neg)"). Anything else counts as present ("no
// relief from chest pain" fires; "LOC (+)" is present), which errs to urgent. The one number
// read is a gestational age ("32 weeks", "32wks", "34+2", "32/40" but not the visual acuity
// "20/40", "GA 32"): from 20 weeks it reads as a pregnancy of 20 weeks or more, whose vaginal
// bleeding is a high-risk situation. Text the reader cannot match keeps the patient at level 3
// or more urgent, and an empty complaint fires point B. The vocabulary and lexicon are
// English; triage-rules.md §7.1 states the rules in full.
//
// # Explanation
//
// Assessment.Reasons are structured values (decision point, code, input field, value,
// threshold) whose String method renders them for people, e.g. "B: pain 8/10 >= 7". For the
// additive scores (NEWS2, qSOFA) the points of every parameter are returned: for an additive
// model those points are the exact Shapley attributions of the score relative to the
// all-normal patient (every parameter at 0 points), so the explanation is exact, not an
// approximation (triage-rules.md §5). One precision: on SpO2 scale 2 the SpO2 row's points depend
// on the oxygen row (93-96 % scores only on oxygen), so there the attribution is exact per
// chart row, the SpO2 row being "SpO2 given the oxygen status".
//
// Resources estimated from a complaint category are an estimate, not a worst case: they may be
// fewer than the nurse would list, so they are marked EvidenceEstimated, listed in Missing and
// make the assessment Provisional until the nurse confirms them.
//
// # Inputs not used by the algorithm
//
// Sex, arrival mode and the injury flag are recorded with the assessment but are not ESI v4,
// NEWS2 or qSOFA inputs, so they never change the level. Pregnancy adds a caveat to NEWS2
// (the RCP does not validate NEWS2 in pregnancy). SpO2 < 92 % is a danger-zone vital sign and
// SpO2 < 90 % fires point A whatever the NEWS2 SpO2 scale, as triage-rules.md §1 states them.
//
// # Performance
//
// Assess does not allocate: reasons and missing inputs are held in fixed-size arrays and
// rendered to text only when String or MarshalJSON is called. Assessment is an output type;
// to persist it, store its JSON (which round-trips) or the Input with EngineVersion and replay.
package triage

// EngineVersion identifies the rules this package implements. Change it whenever a rule,
// threshold or table changes, so that an audited assessment can be replayed.
const EngineVersion = "esi4-ctas-news2-qsofa-ktas/2.1.8"
