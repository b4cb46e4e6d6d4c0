package triage

// qSOFA criterion names, as they appear in QSOFAItem.Criterion.
const (
	CriterionRespiratoryRate  = "respiratoryRate>=22"
	CriterionSystolicBP       = "systolicBP<=100"
	CriterionAlteredMentation = "alteredMentation"
)

// QSOFAItem is one qSOFA criterion with its point (its exact Shapley attribution, triage-rules.md §5).
type QSOFAItem struct {
	Criterion string `json:"criterion"`
	Points    int    `json:"points"`
	// Missing means the input was not recorded and the point is counted (conservative).
	Missing bool `json:"missing,omitempty"`
}

// QSOFA is the quick Sequential Organ Failure Assessment (triage-rules.md §3).
type QSOFA struct {
	Score int `json:"score"`
	// MeasuredScore counts the recorded criteria only.
	MeasuredScore int          `json:"measuredScore"`
	Items         [3]QSOFAItem `json:"items"`
	// HighRisk is Score >= 2: high risk of poor outcome in suspected infection.
	HighRisk bool `json:"highRisk"`
	Complete bool `json:"complete"`
}

const (
	qsofaRespiratoryRate = 22  // triage-rules.md §3: respiratory rate >= 22
	qsofaSystolicBP      = 100 // triage-rules.md §3: systolic BP <= 100
	qsofaHighRisk        = 2   // triage-rules.md §3: score >= 2 flags high risk
)

// scoreQSOFA computes qSOFA (triage-rules.md §3; note >= and <=). A missing input counts its point.
func scoreQSOFA(in *Input) QSOFA {
	v := &in.Vitals
	q := QSOFA{Complete: true}
	q.Items[0] = QSOFAItem{Criterion: CriterionRespiratoryRate}
	if v.RespiratoryRate == nil {
		q.Items[0].Points, q.Items[0].Missing = 1, true
	} else if *v.RespiratoryRate >= qsofaRespiratoryRate { // triage-rules.md §3 RR >= 22
		q.Items[0].Points = 1
	}
	q.Items[1] = QSOFAItem{Criterion: CriterionSystolicBP}
	if v.SystolicBP == nil {
		q.Items[1].Points, q.Items[1].Missing = 1, true
	} else if *v.SystolicBP <= qsofaSystolicBP { // triage-rules.md §3 SBP <= 100
		q.Items[1].Points = 1
	}
	q.Items[2] = QSOFAItem{Criterion: CriterionAlteredMentation}
	if !in.MentalStatus.recorded() {
		q.Items[2].Points, q.Items[2].Missing = 1, true
	} else if in.MentalStatus != MentalAlert { // triage-rules.md §3 altered mentation (not alert)
		q.Items[2].Points = 1
	}
	for _, it := range q.Items {
		q.Score += it.Points
		if it.Missing {
			q.Complete = false
		} else {
			q.MeasuredScore += it.Points
		}
	}
	q.HighRisk = q.Score >= qsofaHighRisk // triage-rules.md §3 score >= 2
	return q
}
