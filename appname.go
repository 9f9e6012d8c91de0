package bulut

import (
	"crypto/rand"
	"fmt"
	"math/big"
)

// Word lists for generated app names, in Heroku's adjective-noun-NNNNN shape
// (e.g. serene-caverns-82714).
var (
	nameAdjectives = []string{
		"afternoon", "aged", "ancient", "autumn", "billowing", "blooming", "bright", "calm", "cold",
		"cool", "crisp", "damp", "dark", "dry", "evening", "fathomless", "floating", "fresh",
		"frozen", "gentle", "glacial", "hidden", "immense", "lit", "morning", "murmuring", "mysterious",
		"obscure", "peaceful", "quiet", "rocky", "serene", "shielded", "shrouded", "sleepy", "still",
		"stormy", "sunny", "tranquil", "warm", "whispering", "young",
	}
	nameNouns = []string{
		"atoll", "bastion", "bayou", "beach", "brook", "caverns", "citadel", "cliffs", "coast",
		"cove", "crag", "dawn", "depths", "dusk", "escarpment", "falls", "fjord", "forest", "garden",
		"glacier", "gorge", "harbor", "headland", "island", "lake", "meadow", "mesa", "mountain",
		"oasis", "ocean", "peak", "plains", "reef", "retreat", "ridge", "river", "sands", "savannah",
		"sea", "shore", "spire", "springs", "stream", "taiga", "temple", "thicket", "tundra", "valley",
		"waters", "wave", "woodland",
	}
)

func randomIndex(n int) int {
	i, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err)
	}
	return int(i.Int64())
}

// GenerateAppName returns a random valid app name such as "serene-caverns-82714".
func GenerateAppName() string {
	return fmt.Sprintf("%s-%s-%05d", nameAdjectives[randomIndex(len(nameAdjectives))],
		nameNouns[randomIndex(len(nameNouns))], randomIndex(100000))
}
