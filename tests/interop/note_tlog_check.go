// Checks what caseledger writes for third parties (docs/formats.md) with
// Go's golang.org/x/mod/sumdb/note and tlog, the implementations the C2SP
// signed-note and checkpoint specifications and RFC 6962's proofs were
// written alongside: a verifier that shares none of caseledger's code.
//
// Usage: note_tlog_check DIR, where go_interop_test.sh has left
//
//	key.txt         caseledger key
//	seed.bin        the 32-byte Ed25519 seed of the ledger's signing key
//	entries.jsonl   caseledger read --format json
//	cp-N.txt        caseledger checkpoint at tree size N (several)
//	incl-P-N.json   caseledger prove --position P --size N
//	cons-A-N.json   caseledger prove --from-size A --size N
//	bundle.zip      caseledger export of one case (docs/bundle-format.md)
//
// Every check that fails is printed; the exit status is 1 if any did.
package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var failures int

func fail(format string, args ...any) {
	failures++
	fmt.Printf("FAIL "+format+"\n", args...)
}

func must(err error, what string) {
	if err != nil {
		fmt.Printf("FAIL %s: %v\n", what, err)
		os.Exit(1)
	}
}

func read(dir, name string) []byte {
	data, err := os.ReadFile(filepath.Join(dir, name))
	must(err, "reading "+name)
	return data
}

// The log as Go's tlog stores it: every stored hash, in its own index order.
type storedHashes []tlog.Hash

func (s storedHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(s)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = s[x]
	}
	return out, nil
}

type checkpoint struct {
	size int64
	root tlog.Hash
	msg  []byte
}

func hashesOf(field []string, what string) []tlog.Hash {
	out := make([]tlog.Hash, len(field))
	for i, text := range field {
		raw, err := base64.StdEncoding.DecodeString(text)
		if err != nil || len(raw) != tlog.HashSize {
			fail("%s: hash %d is not 32 bytes of base64", what, i)
			continue
		}
		copy(out[i][:], raw)
	}
	return out
}

// Each bit of each hash flipped in turn: the proof must fail every time.
func tamperedProofsRefused(hashes []tlog.Hash, check func([]tlog.Hash) error) (refused, tried int) {
	for i := range hashes {
		for bit := 0; bit < 8*tlog.HashSize; bit += 37 {
			altered := append([]tlog.Hash(nil), hashes...)
			altered[i][bit/8] ^= 1 << (bit % 8)
			tried++
			if check(altered) != nil {
				refused++
			}
		}
	}
	return refused, tried
}

// The entry's fields 1 (position) and 6 (event digest), read from the
// protobuf wire format (docs/formats.md §1) with no generated code.
func entryFields(entry []byte) (position uint64, digest []byte, err error) {
	varint := func() (uint64, error) {
		var v uint64
		for shift := 0; shift < 64 && len(entry) > 0; shift += 7 {
			b := entry[0]
			entry = entry[1:]
			v |= uint64(b&0x7f) << shift
			if b < 0x80 {
				return v, nil
			}
		}
		return 0, fmt.Errorf("bad varint")
	}
	for len(entry) > 0 {
		key, err := varint()
		if err != nil {
			return 0, nil, err
		}
		switch key & 7 {
		case 0:
			v, err := varint()
			if err != nil {
				return 0, nil, err
			}
			if key>>3 == 1 {
				position = v
			}
		case 2:
			n, err := varint()
			if err != nil || n > uint64(len(entry)) {
				return 0, nil, fmt.Errorf("bad length")
			}
			if key>>3 == 6 {
				digest = entry[:n]
			}
			entry = entry[n:]
		default:
			return 0, nil, fmt.Errorf("wire type %d", key&7)
		}
	}
	return position, digest, nil
}

// What is wrong with a bundle's members, checked as docs/bundle-format.md
// §8 says a verifier by hand does it: the manifest's signature and digests,
// the checkpoint, each event against its entry and each entry's inclusion
// proof, each message against its name. Empty when nothing is.
func bundleProblems(members map[string][]byte, verifier note.Verifier) []string {
	var problems []string
	problem := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	manifestBytes := members["manifest.json"]
	digest := sha256.Sum256(manifestBytes)
	statement, err := note.Open(members["manifest.sig"], note.VerifierList(verifier))
	if err != nil {
		problem("manifest.sig: %v", err)
	} else if statement.Text != "caseledger-bundle/v1\n"+hex.EncodeToString(digest[:])+"\n" {
		problem("manifest.sig signs another manifest: %q", statement.Text)
	}
	var manifest struct {
		Origin    string   `json:"origin"`
		TreeSize  int64    `json:"tree_size"`
		RootHash  string   `json:"root_hash"`
		Positions []uint64 `json:"positions"`
		Messages  []string `json:"messages"`
		Files     []struct {
			Path   string `json:"path"`
			Sha256 string `json:"sha256"`
			Size   int    `json:"size"`
		} `json:"files"`
	}
	if err := json.Unmarshal(manifestBytes, &manifest); err != nil {
		return append(problems, "manifest.json: "+err.Error())
	}
	if len(manifest.Files)+2 != len(members) {
		problem("the manifest lists %d files, the archive holds %d more", len(manifest.Files), len(members)-2)
	}
	for _, f := range manifest.Files {
		data, ok := members[f.Path]
		sum := sha256.Sum256(data)
		if !ok || hex.EncodeToString(sum[:]) != f.Sha256 || len(data) != f.Size {
			problem("%s: missing, or not the bytes the manifest lists", f.Path)
		}
	}
	cp, err := note.Open(members["checkpoint.txt"], note.VerifierList(verifier))
	if err != nil {
		return append(problems, "checkpoint.txt: "+err.Error())
	}
	body := strings.Split(cp.Text, "\n")
	rootBytes, _ := base64.StdEncoding.DecodeString(body[2])
	if len(body) != 4 || body[0] != manifest.Origin || body[1] != strconv.FormatInt(manifest.TreeSize, 10) ||
		hex.EncodeToString(rootBytes) != manifest.RootHash || len(rootBytes) != tlog.HashSize {
		return append(problems, "checkpoint.txt does not say the manifest's origin, size and root")
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	for _, p := range manifest.Positions {
		entry := members[fmt.Sprintf("events/%d.entry", p)]
		position, eventDigest, err := entryFields(entry)
		event := sha256.Sum256(members[fmt.Sprintf("events/%d.event", p)])
		if err != nil || position != p || !bytes.Equal(eventDigest, event[:]) {
			problem("events/%d: the event is not the one its entry names", p)
		}
		var proof struct {
			Hashes []string `json:"hashes"`
		}
		if err := json.Unmarshal(members[fmt.Sprintf("proofs/%d.json", p)], &proof); err != nil {
			problem("proofs/%d.json: %v", p, err)
			continue
		}
		err = tlog.CheckRecord(hashesOf(proof.Hashes, "proof"), manifest.TreeSize, root, int64(p)-1, tlog.RecordHash(entry))
		if err != nil {
			problem("proofs/%d.json: %v", p, err)
		}
	}
	for _, h := range manifest.Messages {
		sum := sha256.Sum256(members["messages/"+h+".eml"])
		if hex.EncodeToString(sum[:]) != h {
			problem("messages/%s.eml: other bytes", h)
		}
	}
	if len(manifest.Positions) == 0 {
		problem("the manifest lists no event")
	}
	return problems
}

func readZip(path string) map[string][]byte {
	archive, err := zip.OpenReader(path)
	must(err, path)
	defer archive.Close()
	members := map[string][]byte{}
	for _, f := range archive.File {
		r, err := f.Open()
		must(err, f.Name)
		data, err := io.ReadAll(r)
		must(err, f.Name)
		r.Close()
		members[f.Name] = data
	}
	return members
}

// The genuine bundle passes; with one byte of an event changed it fails,
// and still fails when the manifest's digest of it is mended too.
func checkBundle(path string, verifier note.Verifier) {
	members := readZip(path)
	if problems := bundleProblems(members, verifier); len(problems) > 0 {
		fail("%s: %s", filepath.Base(path), strings.Join(problems, "; "))
		return
	}
	var event string
	for name := range members {
		if strings.HasSuffix(name, ".event") {
			event = name
			break
		}
	}
	altered := map[string][]byte{}
	for name, data := range members {
		altered[name] = append([]byte(nil), data...)
	}
	altered[event][len(altered[event])-1] ^= 0x01
	if len(bundleProblems(altered, verifier)) == 0 {
		fail("%s with a byte of %s changed passes", filepath.Base(path), event)
	}
	before := sha256.Sum256(members[event])
	after := sha256.Sum256(altered[event])
	altered["manifest.json"] = bytes.Replace(altered["manifest.json"],
		[]byte(hex.EncodeToString(before[:])), []byte(hex.EncodeToString(after[:])), 1)
	if len(bundleProblems(altered, verifier)) == 0 {
		fail("%s with a byte of %s changed and the manifest mended passes", filepath.Base(path), event)
	}
	fmt.Printf("%s: manifest, checkpoint, %d files, events and proofs checked; with a byte of %s changed it fails\n",
		filepath.Base(path), len(members)-2, event)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Println("usage: note_tlog_check DIR")
		os.Exit(2)
	}
	dir := os.Args[1]

	// The verifier key, and a Go signer made from the ledger's own seed:
	// Ed25519 is deterministic, so Go must sign each checkpoint body into
	// the very bytes caseledger printed.
	vkey := strings.TrimSuffix(string(read(dir, "key.txt")), "\n")
	verifier, err := note.NewVerifier(vkey)
	must(err, "note.NewVerifier(key.txt)")
	name, rest, _ := strings.Cut(vkey, "+")
	keyID, _, _ := strings.Cut(rest, "+")
	seed := read(dir, "seed.bin")
	signer, err := note.NewSigner(fmt.Sprintf("PRIVATE+KEY+%s+%s+%s", name, keyID,
		base64.StdEncoding.EncodeToString(append([]byte{1}, seed...))))
	must(err, "note.NewSigner(the ledger's seed with key.txt's name and key id)")

	// The leaves, as read --format json gives each entry's stored bytes.
	var leaves [][]byte
	lines := bytes.Split(bytes.TrimSpace(read(dir, "entries.jsonl")), []byte("\n"))
	for i, line := range lines {
		var row struct {
			Position int64  `json:"position"`
			Entry    string `json:"entry"`
		}
		must(json.Unmarshal(line, &row), "entries.jsonl line "+strconv.Itoa(i+1))
		if row.Position != int64(i+1) {
			fail("entries.jsonl line %d holds position %d", i+1, row.Position)
		}
		entry, err := base64.StdEncoding.DecodeString(row.Entry)
		must(err, "entries.jsonl line "+strconv.Itoa(i+1)+" entry")
		leaves = append(leaves, entry)
	}
	var stored storedHashes
	for i, leaf := range leaves {
		more, err := tlog.StoredHashes(int64(i), leaf, stored)
		must(err, "tlog.StoredHashes")
		stored = append(stored, more...)
	}

	// Checkpoints: opened by Go's note, signed again by it byte for byte,
	// their roots those Go computes from the entries.
	checkpoints := map[int64]checkpoint{}
	names, _ := filepath.Glob(filepath.Join(dir, "cp-*.txt"))
	tamperedNotes, tamperedNotesRefused, paddingOnly := 0, 0, 0
	for _, path := range names {
		msg, err := os.ReadFile(path)
		must(err, path)
		opened, err := note.Open(msg, note.VerifierList(verifier))
		if err != nil {
			fail("%s: note.Open: %v", filepath.Base(path), err)
			continue
		}
		resigned, err := note.Sign(&note.Note{Text: opened.Text}, signer)
		must(err, "note.Sign")
		if !bytes.Equal(resigned, msg) {
			fail("%s: Go signs its body into other bytes:\n%q\n%q", filepath.Base(path), resigned, msg)
		}
		body := strings.Split(opened.Text, "\n")
		if len(body) != 4 || body[3] != "" || body[0] != name {
			fail("%s: body is not origin, size, root: %q", filepath.Base(path), opened.Text)
			continue
		}
		size, err := strconv.ParseInt(body[1], 10, 64)
		must(err, path+" size")
		root := hashesOf(body[2:3], filepath.Base(path))[0]
		want, err := tlog.TreeHash(size, stored)
		must(err, "tlog.TreeHash")
		if want != root {
			fail("%s: root %s, Go computes %s from the entries", filepath.Base(path), root, want)
		}
		checkpoints[size] = checkpoint{size, root, msg}
		// Any byte changed: Go refuses the note or reads another text,
		// except a change of the signature's last base64 digit that only
		// touches its padding bits, which Go's lenient decoder ignores
		// (caseledger's strict one refuses it: docs/formats.md).
		lastDigit := bytes.LastIndexByte(msg, '=') - 1
		for i := range msg {
			altered := append([]byte(nil), msg...)
			altered[i] ^= 0x01
			tamperedNotes++
			n, err := note.Open(altered, note.VerifierList(verifier))
			if err != nil || n.Text != opened.Text || len(n.Sigs) != 1 {
				tamperedNotesRefused++
			} else if i == lastDigit {
				tamperedNotes--
				paddingOnly++
			}
		}
	}
	if len(checkpoints) < 2 {
		fail("need at least two checkpoints, found %d", len(checkpoints))
	}

	// Proofs: checked by tlog, and equal to the ones tlog makes itself.
	proofFile := regexp.MustCompile(`^(incl|cons)-(\d+)-(\d+)\.json$`)
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(files)
	inclusion, consistency, tamperedProofs, tamperedProofsRefusedAll := 0, 0, 0, 0
	for _, path := range files {
		base := filepath.Base(path)
		m := proofFile.FindStringSubmatch(base)
		if m == nil {
			continue
		}
		a, _ := strconv.ParseInt(m[2], 10, 64)
		n, _ := strconv.ParseInt(m[3], 10, 64)
		cp, ok := checkpoints[n]
		if !ok {
			fail("%s: no checkpoint of size %d", base, n)
			continue
		}
		var proof struct {
			LeafIndex *int64   `json:"leaf_index"`
			TreeSize  *int64   `json:"tree_size"`
			OldSize   *int64   `json:"old_size"`
			NewSize   *int64   `json:"new_size"`
			Hashes    []string `json:"hashes"`
		}
		must(json.Unmarshal(read(dir, base), &proof), base)
		hashes := hashesOf(proof.Hashes, base)
		var check func([]tlog.Hash) error
		var ours []tlog.Hash
		if m[1] == "incl" {
			if proof.LeafIndex == nil || *proof.LeafIndex != a-1 || proof.TreeSize == nil || *proof.TreeSize != n {
				fail("%s: leaf_index/tree_size do not say %d/%d", base, a-1, n)
				continue
			}
			leaf := tlog.RecordHash(leaves[a-1])
			check = func(p []tlog.Hash) error { return tlog.CheckRecord(p, n, cp.root, a-1, leaf) }
			made, err := tlog.ProveRecord(n, a-1, stored)
			must(err, "tlog.ProveRecord")
			ours = made
			inclusion++
		} else {
			old, ok := checkpoints[a]
			if !ok {
				fail("%s: no checkpoint of size %d", base, a)
				continue
			}
			if proof.OldSize == nil || *proof.OldSize != a || proof.NewSize == nil || *proof.NewSize != n {
				fail("%s: old_size/new_size do not say %d/%d", base, a, n)
				continue
			}
			check = func(p []tlog.Hash) error { return tlog.CheckTree(p, n, cp.root, a, old.root) }
			made, err := tlog.ProveTree(n, a, stored)
			must(err, "tlog.ProveTree")
			ours = made
			consistency++
		}
		if err := check(hashes); err != nil {
			fail("%s: tlog refuses it: %v", base, err)
		}
		if fmt.Sprint(ours) != fmt.Sprint(hashes) {
			fail("%s: tlog proves it with other hashes: %v", base, ours)
		}
		refused, tried := tamperedProofsRefused(hashes, check)
		tamperedProofs += tried
		tamperedProofsRefusedAll += refused
	}
	checkBundle(filepath.Join(dir, "bundle.zip"), verifier)
	if tamperedNotesRefused != tamperedNotes {
		fail("%d of %d notes with a byte changed were accepted with the same text", tamperedNotes-tamperedNotesRefused, tamperedNotes)
	}
	if tamperedProofsRefusedAll != tamperedProofs {
		fail("%d of %d proofs with a bit changed were accepted", tamperedProofs-tamperedProofsRefusedAll, tamperedProofs)
	}
	if inclusion == 0 || consistency == 0 {
		fail("no inclusion (%d) or no consistency (%d) proof was checked", inclusion, consistency)
	}
	fmt.Printf("%d entries; %d checkpoints opened by note.Open and signed again by note.Sign byte for byte, "+
		"roots equal to tlog.TreeHash; %d inclusion and %d consistency proofs accepted by tlog and equal to its own; "+
		"%d notes with a byte changed and %d proofs with a bit changed refused (and %d notes changed in a padding bit accepted)\n",
		len(leaves), len(checkpoints), inclusion, consistency, tamperedNotesRefused, tamperedProofsRefusedAll, paddingOnly)
	if failures > 0 {
		os.Exit(1)
	}
}
