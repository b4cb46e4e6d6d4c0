package clinical

import "sync"

// Symptom vocabulary: what a patient reports or denies, by review-of-systems system.
// Written for this project from common clinical usage (the systems of a review of
// systems); the canonical name is what the note writes.
var symptomSystems = map[string][]string{
	"Constitutional": {"fever|fevers|febrile", "chills|chill", "night sweats|sweats|sweating|sweaty", "fatigue|tired|tiredness|exhausted|exhaustion|lethargy|lethargic",
		"weight loss|lost weight|losing weight", "weight gain|gained weight|gaining weight", "malaise", "weakness|weak",
		"loss of appetite|decreased appetite|poor appetite|appetite"},
	"Eyes": {"blurry vision|blurred vision|vision changes|changes in vision|double vision", "eye pain", "red eye|eye redness", "eye discharge"},
	"Ears, Nose, Mouth and Throat": {"sore throat|throat pain|scratchy throat", "nasal congestion|congestion|stuffy nose|congested", "runny nose|rhinorrhea",
		"ear pain|earache", "hearing loss", "sinus pain|sinus pressure", "difficulty swallowing|trouble swallowing|hard to swallow|dysphagia|painful swallowing",
		"hoarseness|hoarse", "postnasal drip", "sneezing", "nosebleed|nosebleeds|epistaxis", "tinnitus|ringing in the ears", "mouth sores", "swollen tonsils|tonsils are swollen"},
	"Cardiovascular": {"chest pain|chest pains|chest pressure|chest tightness|chest discomfort", "palpitations|heart racing|racing heart|heart is racing|heart race|pounding heart",
		"swelling in your legs|swelling in the legs|leg swelling|swelling in my legs|swollen legs|ankle swelling|swollen ankles|edema|lower extremity edema", "orthopnea", "syncope|passing out|passed out|fainting|fainted",
		"dyspnea on exertion|short of breath with exertion", "claudication"},
	"Respiratory": {"shortness of breath|short of breath|trouble breathing|difficulty breathing|sob|dyspnea|breathlessness", "cough|coughing", "wheezing|wheeze",
		"sputum|phlegm|mucus", "hemoptysis|coughing up blood"},
	"Gastrointestinal": {"nausea|nauseous|nauseated|sick to your stomach|sick to my stomach", "vomiting|vomited|throwing up|threw up", "diarrhea|loose stools", "constipation|constipated",
		"abdominal pain|belly pain|stomach pain|stomach ache|stomachache|tummy pain|abdominal cramps|cramping", "heartburn|acid reflux|reflux|indigestion",
		"blood in the stool|blood in your stool|blood in my stool|bloody stool|rectal bleeding|black stools|melena", "bloating|bloated", "decreased appetite"},
	"Genitourinary": {"burning with urination|painful urination|dysuria|burning when i pee|burning when you pee", "frequency|frequent urination|urinary frequency",
		"urgency|urinary urgency", "blood in the urine|blood in your urine|blood in my urine|hematuria", "incontinence|leaking urine", "flank pain", "vaginal discharge", "pelvic pain"},
	"Musculoskeletal": {"joint pain|joint pains|arthralgia", "back pain|low back pain|lower back pain", "neck pain", "muscle aches|muscle pain|body aches|myalgia|achy",
		"joint swelling", "stiffness|stiff", "knee pain", "shoulder pain", "hip pain"},
	"Integumentary": {"rash|rashes", "itching|itchy|pruritus", "hives", "bruising|bruise|bruises", "skin lesion|lesion|lesions", "wound"},
	"Neurological": {"headache|headaches|migraine|migraines", "dizziness|dizzy|lightheaded|lightheadedness|vertigo", "numbness|numb", "tingling|pins and needles",
		"seizure|seizures", "memory loss|forgetful|memory problems", "tremor|tremors|shaky", "loss of consciousness", "confusion|confused", "weakness in your arm|weakness in your leg"},
	"Psychiatric": {"depression|depressed|feeling down|sad", "anxiety|anxious|nervous|worried", "trouble sleeping|difficulty sleeping|insomnia|can't sleep|not sleeping",
		"suicidal|suicidal thoughts|harm yourself|hurt yourself|thoughts of hurting|suicidal ideation", "stress|stressed"},
	"Endocrine":             {"excessive thirst|thirsty|polydipsia", "frequent urination at night|nocturia", "heat intolerance", "cold intolerance"},
	"Hematologic/Lymphatic": {"swollen glands|swollen lymph nodes|lymph nodes", "easy bruising", "bleeding"},
	"Allergic/Immunologic":  {"seasonal allergies|allergies", "frequent infections"},
}

// Conditions clinicians name as diagnoses or problems: synonyms|... -> the first is the
// name the note writes. Written for this project from common primary-care and emergency
// diagnoses.
var conditionList = []string{
	"hypertension|high blood pressure|elevated blood pressure|htn", "hypotension|low blood pressure",
	"type 2 diabetes|type two diabetes|diabetes type 2|diabetes type two|type 2 diabetes mellitus|diabetes mellitus type 2|t2dm", "type 1 diabetes|type one diabetes|diabetes type 1",
	"diabetes|diabetes mellitus|diabetic|sugar diabetes", "prediabetes|pre-diabetes|prediabetic",
	"hyperlipidemia|high cholesterol|elevated cholesterol|dyslipidemia|hypercholesterolemia", "hypothyroidism|underactive thyroid|low thyroid", "hyperthyroidism|overactive thyroid",
	"congestive heart failure|heart failure|chf|hfref|hfpef", "coronary artery disease|cad|coronary disease|heart disease", "atrial fibrillation|afib|a-fib|a fib",
	"myocardial infarction|heart attack|mi|nstemi|stemi", "angina", "stroke|cva|tia|transient ischemic attack|mini stroke", "peripheral artery disease|peripheral vascular disease|pad",
	"deep vein thrombosis|dvt|blood clot", "pulmonary embolism|pe", "mitral regurgitation", "aortic stenosis", "heart murmur|murmur",
	"asthma", "copd|chronic obstructive pulmonary disease|emphysema|chronic bronchitis", "pneumonia", "bronchitis", "upper respiratory infection|uri|upper respiratory tract infection|common cold|cold",
	"sinusitis|sinus infection", "pharyngitis|strep throat|strep|streptococcal pharyngitis|tonsillitis|peritonsillar abscess", "otitis media|ear infection", "otitis externa|swimmer's ear",
	"influenza|flu", "covid-19|covid|coronavirus", "allergic rhinitis|seasonal allergies|hay fever", "sleep apnea|obstructive sleep apnea|osa",
	"gastroesophageal reflux disease|gerd|acid reflux|reflux", "gastritis", "peptic ulcer|stomach ulcer|ulcer", "irritable bowel syndrome|ibs", "crohn's disease|crohn's|crohns",
	"ulcerative colitis|colitis", "diverticulitis", "diverticulosis", "gastroenteritis|stomach bug|stomach flu", "constipation", "hemorrhoids", "gallstones|cholelithiasis",
	"cholecystitis", "pancreatitis", "appendicitis", "hepatitis", "fatty liver|nonalcoholic fatty liver disease|nafld", "cirrhosis", "celiac disease",
	"urinary tract infection|uti|bladder infection", "kidney stone|kidney stones|nephrolithiasis|renal colic", "chronic kidney disease|ckd|kidney disease|renal insufficiency",
	"kidney transplant|renal transplant", "pyelonephritis|kidney infection", "benign prostatic hyperplasia|bph|enlarged prostate", "erectile dysfunction",
	"osteoarthritis|arthritis|degenerative joint disease", "rheumatoid arthritis", "gout", "osteoporosis", "fibromyalgia", "lupus|systemic lupus erythematosus",
	"low back pain|lumbar strain|back strain|lumbago", "sciatica|lumbar radiculopathy|radiculopathy", "herniated disc|disc herniation|bulging disc",
	"ankle sprain|sprained ankle", "sprain", "strain|muscle strain", "fracture|broken bone", "tendinitis|tendonitis", "tenosynovitis|stenosing tenosynovitis|trigger finger",
	"carpal tunnel syndrome|carpal tunnel", "rotator cuff tear|rotator cuff tendinopathy|rotator cuff injury|rotator cuff", "meniscus tear|meniscal tear|torn meniscus",
	"acl tear|anterior cruciate ligament tear", "medial collateral ligament strain|mcl strain|mcl sprain|mcl tear", "plantar fasciitis", "bursitis", "frozen shoulder|adhesive capsulitis",
	"concussion", "migraine|migraines", "tension headache", "headache", "epilepsy|seizure disorder", "neuropathy|peripheral neuropathy|diabetic neuropathy",
	"vertigo|bppv|benign paroxysmal positional vertigo", "parkinson's disease|parkinson's|parkinsons", "dementia|alzheimer's|alzheimer's disease|memory loss", "multiple sclerosis|ms",
	"bell's palsy", "depression|major depressive disorder|mdd", "anxiety|generalized anxiety disorder|gad|anxiety disorder", "bipolar disorder|bipolar", "insomnia",
	"adhd|attention deficit hyperactivity disorder|attention deficit disorder", "ptsd|post-traumatic stress disorder", "alcohol use disorder|alcoholism", "opioid use disorder",
	"eczema|atopic dermatitis", "psoriasis", "cellulitis", "abscess", "acne", "contact dermatitis|dermatitis", "shingles|herpes zoster", "urticaria|hives", "skin cancer|melanoma|basal cell carcinoma",
	"anemia|iron deficiency anemia", "vitamin d deficiency", "vitamin b12 deficiency|b12 deficiency", "obesity|morbid obesity", "hyperkalemia", "hypokalemia",
	"dehydration", "sepsis", "lymphadenopathy", "mononucleosis|mono", "lyme disease", "hiv", "breast cancer", "prostate cancer", "lung cancer", "colon cancer|colorectal cancer",
	"cancer", "polycystic ovary syndrome|pcos", "endometriosis", "pregnancy|pregnant", "menopause", "glaucoma", "cataract|cataracts", "conjunctivitis|pink eye",
	"allergic reaction|anaphylaxis", "syncope", "chest wall pain|costochondritis", "atypical chest pain",
}

// Condition is a diagnosis or problem of the vocabulary.
type Condition struct{ Name string }

// Symptom is a symptom of the vocabulary with its review-of-systems system.
type Symptom struct{ Name, System string }

var (
	termsOnce  sync.Once
	conditions *Lexicon[Condition]
	symptoms   *Lexicon[Symptom]
)

func loadTerms() {
	termsOnce.Do(func() {
		cm := map[string]Condition{}
		for _, line := range conditionList {
			names := splitBar(line)
			for _, n := range names {
				if _, dup := cm[n]; !dup {
					cm[n] = Condition{Name: names[0]}
				}
			}
		}
		conditions = NewLexicon(cm)
		sm := map[string]Symptom{}
		for system, list := range symptomSystems {
			for _, line := range list {
				names := splitBar(line)
				for _, n := range names {
					if old, dup := sm[n]; !dup || old.System > system {
						sm[n] = Symptom{Name: names[0], System: system}
					}
				}
			}
		}
		symptoms = NewLexicon(sm)
	})
}

// Conditions returns the diagnosis vocabulary.
func Conditions() *Lexicon[Condition] { loadTerms(); return conditions }

// Symptoms returns the symptom vocabulary.
func Symptoms() *Lexicon[Symptom] { loadTerms(); return symptoms }

func splitBar(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '|' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
