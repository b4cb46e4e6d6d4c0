package triage

import (
	"encoding/json"
	"fmt"
)

// ResourceType is a kind of ED resource as ESI counts them (triage-rules.md §1, "Resources"). The
// "not a resource" values exist so that a nurse can record them explicitly; they count 0.
type ResourceType string

// Resources (triage-rules.md §1: "count types, not tests").
const (
	ResourceLabs                 ResourceType = "labs"
	ResourceECGXRay              ResourceType = "ecg_xray"              // ECG / X-ray
	ResourceAdvancedImaging      ResourceType = "advanced_imaging"      // CT / MRI / ultrasound / angiography
	ResourceIVFluids             ResourceType = "iv_fluids"             // IV fluids
	ResourceParenteralMedication ResourceType = "parenteral_medication" // IV, IM or nebulised medication
	ResourceSpecialtyConsult     ResourceType = "specialty_consult"
	ResourceSimpleProcedure      ResourceType = "simple_procedure"  // counts 1
	ResourceComplexProcedure     ResourceType = "complex_procedure" // counts 2
)

// Not resources (triage-rules.md §1: "Not resources: ..."); each counts 0.
const (
	NotResourceHistoryExam        ResourceType = "history_exam"
	NotResourcePointOfCareTest    ResourceType = "point_of_care_test"
	NotResourceSalineLock         ResourceType = "saline_lock"
	NotResourceOralMedication     ResourceType = "oral_medication"
	NotResourceTetanus            ResourceType = "tetanus"
	NotResourcePrescriptionRefill ResourceType = "prescription_refill"
	NotResourceSimpleWoundCare    ResourceType = "simple_wound_care"
	NotResourceCrutchesSplint     ResourceType = "crutches_splint"
)

type resourceInfo struct {
	typ ResourceType
	// weight is what the type adds to the ESI resource count (triage-rules.md §1).
	weight int
	label  string
}

// resourceTable lists every ResourceType; a ResourceSet bit is an index into it.
var resourceTable = [...]resourceInfo{
	{ResourceLabs, 1, "labs"},                                           // triage-rules.md §1
	{ResourceECGXRay, 1, "ECG / X-ray"},                                 // triage-rules.md §1
	{ResourceAdvancedImaging, 1, "CT / MRI / ultrasound / angiography"}, // triage-rules.md §1
	{ResourceIVFluids, 1, "IV fluids"},                                  // triage-rules.md §1
	{ResourceParenteralMedication, 1, "IV, IM or nebulised medication"}, // triage-rules.md §1
	{ResourceSpecialtyConsult, 1, "specialty consult"},                  // triage-rules.md §1
	{ResourceSimpleProcedure, 1, "simple procedure"},                    // triage-rules.md §1 "simple procedure (1)"
	{ResourceComplexProcedure, 2, "complex procedure"},                  // triage-rules.md §1 "complex procedure (2)"
	{NotResourceHistoryExam, 0, "history and exam"},                     // triage-rules.md §1 not a resource
	{NotResourcePointOfCareTest, 0, "point-of-care test"},               // triage-rules.md §1 not a resource
	{NotResourceSalineLock, 0, "saline lock"},                           // triage-rules.md §1 not a resource
	{NotResourceOralMedication, 0, "oral medication"},                   // triage-rules.md §1 not a resource
	{NotResourceTetanus, 0, "tetanus shot"},                             // triage-rules.md §1 not a resource
	{NotResourcePrescriptionRefill, 0, "prescription refill"},           // triage-rules.md §1 not a resource
	{NotResourceSimpleWoundCare, 0, "simple wound care"},                // triage-rules.md §1 not a resource
	{NotResourceCrutchesSplint, 0, "crutches / splints"},                // triage-rules.md §1 not a resource
}

func resourceIndex(t ResourceType) int {
	for i := range resourceTable {
		if resourceTable[i].typ == t {
			return i
		}
	}
	return -1
}

// ResourceSet is a set of resource types. It marshals to JSON as a list of ResourceType.
type ResourceSet uint16

func resourceSetOf(types ...ResourceType) ResourceSet {
	var s ResourceSet
	for _, t := range types {
		i := resourceIndex(t)
		if i < 0 {
			panic("triage: unknown resource type in table: " + string(t))
		}
		s |= 1 << i
	}
	return s
}

// Has reports whether t is in the set.
func (s ResourceSet) Has(t ResourceType) bool {
	i := resourceIndex(t)
	return i >= 0 && s&(1<<i) != 0
}

// Types lists the set's resource types in table order.
func (s ResourceSet) Types() []ResourceType {
	var out []ResourceType
	for i := range resourceTable {
		if s&(1<<i) != 0 {
			out = append(out, resourceTable[i].typ)
		}
	}
	return out
}

// Count is the ESI resource count of the set: distinct types, complex procedure counting 2,
// non-resources 0 (triage-rules.md §1).
func (s ResourceSet) Count() int {
	n := 0
	for i := range resourceTable {
		if s&(1<<i) != 0 {
			n += resourceTable[i].weight
		}
	}
	return n
}

// MarshalJSON encodes the set as a list of resource types.
func (s ResourceSet) MarshalJSON() ([]byte, error) {
	t := s.Types()
	if t == nil {
		t = []ResourceType{}
	}
	return json.Marshal(t)
}

// UnmarshalJSON decodes a list of resource types.
func (s *ResourceSet) UnmarshalJSON(b []byte) error {
	var types []ResourceType
	if err := json.Unmarshal(b, &types); err != nil {
		return err
	}
	var out ResourceSet
	for _, t := range types {
		i := resourceIndex(t)
		if i < 0 {
			return fmt.Errorf("triage: unknown resource type %q", t)
		}
		out |= 1 << i
	}
	*s = out
	return nil
}

// ComplaintCategory classifies the chief complaint. It is optional; the engine uses it to
// estimate resources when the nurse gives none, and the high-risk categories fire point B.
type ComplaintCategory string

// Complaint categories. "other" (or no category) gives no resource estimate.
const (
	CategoryAbdominalPain     ComplaintCategory = "abdominal_pain"
	CategoryAllergicReaction  ComplaintCategory = "allergic_reaction"
	CategoryBackPain          ComplaintCategory = "back_pain"
	CategoryChestPain         ComplaintCategory = "chest_pain"
	CategoryDental            ComplaintCategory = "dental"
	CategoryEarNoseThroat     ComplaintCategory = "ear_nose_throat"
	CategoryEye               ComplaintCategory = "eye"
	CategoryFever             ComplaintCategory = "fever"
	CategoryHeadache          ComplaintCategory = "headache"
	CategoryLaceration        ComplaintCategory = "laceration"
	CategoryMajorTrauma       ComplaintCategory = "major_trauma"
	CategoryMedicationRefill  ComplaintCategory = "medication_refill"
	CategoryMentalHealth      ComplaintCategory = "mental_health"
	CategoryMinorInjury       ComplaintCategory = "minor_injury"
	CategoryOverdosePoisoning ComplaintCategory = "overdose_poisoning"
	CategoryPregnancyRelated  ComplaintCategory = "pregnancy_related"
	CategoryRash              ComplaintCategory = "rash"
	CategorySeizure           ComplaintCategory = "seizure"
	CategoryShortnessOfBreath ComplaintCategory = "shortness_of_breath"
	CategoryStrokeSymptoms    ComplaintCategory = "stroke_symptoms"
	CategorySuicidalIdeation  ComplaintCategory = "suicidal_ideation"
	CategorySyncope           ComplaintCategory = "syncope"
	CategoryUrinary           ComplaintCategory = "urinary"
	CategoryVomitingDiarrhoea ComplaintCategory = "vomiting_diarrhoea"
	CategoryOther             ComplaintCategory = "other"
)

type categoryInfo struct {
	category ComplaintCategory
	// estimate is the resource estimate used when the nurse gives none; estimated is false
	// when the category gives no basis for one (then >= 2 is assumed).
	estimate  ResourceSet
	estimated bool
	// highRisk, when not empty, names the high-risk situation the category is (point B).
	highRisk string
}

// categories is the reviewable resource-estimate table (an engine choice, not a threshold of
// triage-rules.md; modelled on the typical ED work-up of each complaint in the ESI v4 handbook's
// examples). When in doubt it estimates more resources, never fewer: >= 2 resources sends
// the patient to point D, where the vital signs decide between 2 and 3. Only complaints
// whose usual care needs no ESI resource are estimated at 0 (level 5).
var categories = [...]categoryInfo{
	// Labs, imaging (CT or ultrasound), IV fluids, IV analgesia.
	{CategoryAbdominalPain, resourceSetOf(ResourceLabs, ResourceAdvancedImaging, ResourceIVFluids, ResourceParenteralMedication), true, ""},
	// IV/IM antihistamine or steroid; anaphylaxis terms in the complaint fire point B.
	{CategoryAllergicReaction, resourceSetOf(ResourceParenteralMedication), true, ""},
	// X-ray and IM/IV analgesia.
	{CategoryBackPain, resourceSetOf(ResourceECGXRay, ResourceParenteralMedication), true, ""},
	// Labs (troponin), ECG / chest X-ray. High-risk: chest pain suggestive of ACS (triage-rules.md §1 B).
	{CategoryChestPain, resourceSetOf(ResourceLabs, ResourceECGXRay), true, "chest pain suggestive of acute coronary syndrome"},
	// Oral analgesia, referral: no ESI resource.
	{CategoryDental, 0, true, ""},
	// Sore throat, earache: exam and point-of-care tests only.
	{CategoryEarNoseThroat, 0, true, ""},
	// Foreign body removal / irrigation as a simple procedure.
	{CategoryEye, resourceSetOf(ResourceSimpleProcedure), true, ""},
	// Labs and chest X-ray to find a source.
	{CategoryFever, resourceSetOf(ResourceLabs, ResourceECGXRay), true, ""},
	// CT and IV/IM analgesia.
	{CategoryHeadache, resourceSetOf(ResourceAdvancedImaging, ResourceParenteralMedication), true, ""},
	// Laceration repair: simple procedure (ESI v4: 1 resource).
	{CategoryLaceration, resourceSetOf(ResourceSimpleProcedure), true, ""},
	// Labs, X-ray, CT, IV fluids.
	{CategoryMajorTrauma, resourceSetOf(ResourceLabs, ResourceECGXRay, ResourceAdvancedImaging, ResourceIVFluids), true, ""},
	// Prescription refill is not a resource (triage-rules.md §1).
	{CategoryMedicationRefill, 0, true, ""},
	// Labs (medical clearance) and psychiatric consult.
	{CategoryMentalHealth, resourceSetOf(ResourceLabs, ResourceSpecialtyConsult), true, ""},
	// X-ray of the injured part; splints are not a resource.
	{CategoryMinorInjury, resourceSetOf(ResourceECGXRay), true, ""},
	// Labs and ECG. High-risk: overdose (triage-rules.md §1 B examples).
	{CategoryOverdosePoisoning, resourceSetOf(ResourceLabs, ResourceECGXRay), true, "overdose or poisoning"},
	// Labs and ultrasound.
	{CategoryPregnancyRelated, resourceSetOf(ResourceLabs, ResourceAdvancedImaging), true, ""},
	// Exam only.
	{CategoryRash, 0, true, ""},
	// Labs and CT.
	{CategorySeizure, resourceSetOf(ResourceLabs, ResourceAdvancedImaging), true, ""},
	// Labs, chest X-ray, nebulised medication.
	{CategoryShortnessOfBreath, resourceSetOf(ResourceLabs, ResourceECGXRay, ResourceParenteralMedication), true, ""},
	// Labs and CT. High-risk: stroke signs (triage-rules.md §1 B).
	{CategoryStrokeSymptoms, resourceSetOf(ResourceLabs, ResourceAdvancedImaging), true, "stroke signs"},
	// Labs and psychiatric consult. High-risk: suicidal (triage-rules.md §1 B).
	{CategorySuicidalIdeation, resourceSetOf(ResourceLabs, ResourceSpecialtyConsult), true, "suicidal"},
	// Labs and ECG.
	{CategorySyncope, resourceSetOf(ResourceLabs, ResourceECGXRay), true, ""},
	// Urinalysis and culture in the laboratory (a dipstick alone is point-of-care).
	{CategoryUrinary, resourceSetOf(ResourceLabs), true, ""},
	// Labs and IV fluids.
	{CategoryVomitingDiarrhoea, resourceSetOf(ResourceLabs, ResourceIVFluids), true, ""},
	// No basis for an estimate: >= 2 resources assumed.
	{CategoryOther, 0, false, ""},
}

// lookupCategory returns the category's row, or nil for "" and unknown values.
func lookupCategory(c ComplaintCategory) *categoryInfo {
	if c == "" {
		return nil
	}
	for i := range categories {
		if categories[i].category == c {
			return &categories[i]
		}
	}
	return nil
}
