package learn

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/medi-os/medi/shared/triage"
)

// FileInfo describes where a model comes from; it is written into the model file.
type FileInfo struct {
	// Data is the training file's name as given to the command (never its content).
	Data string
	// DataSHA256 is the SHA-256 of the training file's bytes.
	DataSHA256 string
	Rows       int
	Command    string
}

// DataHash is the SHA-256 of a training file's bytes, in hex.
func DataHash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Encode writes m as the engine's model file (data/model.json): deterministic, one feature
// per line, numbers with six significant digits, so that the same training gives the same
// bytes.
func Encode(m *triage.Model, info FileInfo, opt Options, rep Report) []byte {
	var b bytes.Buffer
	str := func(s string) string {
		q, _ := json.Marshal(s)
		return string(q)
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	b.WriteString("{\n")
	fmt.Fprintf(&b, "  \"version\": %s,\n", str(m.Version))
	b.WriteString("  \"description\": \"Proportional-odds (ordinal logistic) model of the triage level given by triage experts, over the triage engine's features of what the nurse recorded (shared/triage/model.go). P(level <= k) = sigmoid(thresholds[k-1] + score), score = sum of weight * (value - mean) / scale; a higher score is more urgent.\",\n")
	b.WriteString("  \"source\": \"Moon S-H, Shim JL, Park K-S, Park C-S. Triage accuracy and causes of mistriage using the Korean Triage and Acuity Scale. PLOS ONE 14(9): e0216972 (2019); data: figshare doi 10.6084/m9.figshare.9779267 (training split of 688 adult ED visits; the diagnosis, the nurse's level and the length of stay are never read).\",\n")
	b.WriteString("  \"licence\": \"Data CC BY 4.0; model derived from it under the same licence.\",\n")
	fmt.Fprintf(&b, "  \"command\": %s,\n", str(info.Command))
	fmt.Fprintf(&b, "  \"training\": {\"data\": %s, \"sha256\": %s, \"rows\": %d, \"l2\": %s, \"iterations\": %d, \"converged\": %t, \"levelCounts\": [%d, %d, %d, %d, %d]},\n",
		str(info.Data), str(info.DataSHA256), info.Rows, num(opt.L2), rep.Iterations, rep.Converged,
		rep.ClassCounts[0], rep.ClassCounts[1], rep.ClassCounts[2], rep.ClassCounts[3], rep.ClassCounts[4])
	b.WriteString("  \"features\": [\n")
	n := m.FeatureCount()
	for i := range n {
		sep := ","
		if i == n-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "    {\"name\": %s, \"mean\": %s, \"scale\": %s, \"weight\": %s}%s\n",
			str(triage.FeatureName(i)), num(m.Mean[i]), num(m.Scale[i]), num(m.Weight[i]), sep)
	}
	b.WriteString("  ],\n")
	fmt.Fprintf(&b, "  \"thresholds\": [%s, %s, %s, %s]\n", num(m.Thresholds[0]), num(m.Thresholds[1]), num(m.Thresholds[2]), num(m.Thresholds[3]))
	b.WriteString("}\n")
	return b.Bytes()
}
