// Command xmodcheck checks the fleet's published checkpoints and proofs the way an outside auditor
// would, with Go's golang.org/x/mod/sumdb note and tlog packages (Debian's golang-golang-x-mod-dev,
// built with GO111MODULE=off) and none of the project's code.
//
// Usage: xmodcheck JOB.json
//
// The job is a list of checks, each expected to verify or to be rejected:
//
//	{"checks": [
//	  {"name": "global", "kind": "checkpoint", "expect": "valid", "note": "…", "key": "name+hash+base64(0x01‖pub)",
//	   "cosigners": ["name+hash+base64(0x04‖pub)", …]},
//	  {"name": "r0", "kind": "inclusion", "expect": "valid", "checkpoint": "global", "index": 3,
//	   "entry": "base64 entry bytes", "proof": ["base64 hash", …]},
//	  {"name": "c", "kind": "consistency", "expect": "valid", "old": "global-1", "new": "global", "proof": […]},
//	  {"name": "e", "kind": "agent-checkpoint-entry", "expect": "valid", "checkpoint": "global", "index": 9,
//	   "entry": "base64 0x02 entry", "proof": […], "key": "agent vkey (0x01)", "origin": "<fleet>/agent/<id>"}
//	]}
//
// A checkpoint check opens the note with note.Open, trusting the log key (note.NewVerifier) and one
// cosignature/v1 verifier per cosigner key (C2SP tlog-cosignature; x/mod has no type 0x04); it
// verifies when the log key and every cosigner are among the verified signatures and the text is a
// C2SP checkpoint. Proof checks take the tree size and root from a checkpoint check that verified
// (never from the proof) and run tlog.CheckRecord / tlog.CheckTree. An agent-checkpoint-entry check
// proves a 0x02 leaf of the global log and opens the agent checkpoint note inside it with the
// agent's key: the log of logs.
//
// Prints one JSON line {"ok", "passed", "failed", "results": [{name, kind, expect, verified, error}]}
// and exits 0 when every check met its expectation, 1 otherwise, 2 for a malformed job.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// cosignatureType is the C2SP signature type of a cosignature/v1 (Ed25519) key.
const cosignatureType = 0x04

type check struct {
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`
	Expect     string   `json:"expect"`
	Note       string   `json:"note"`
	Key        string   `json:"key"`
	Cosigners  []string `json:"cosigners"`
	Origin     string   `json:"origin"`
	Checkpoint string   `json:"checkpoint"`
	Index      int64    `json:"index"`
	Entry      string   `json:"entry"`
	Old        string   `json:"old"`
	New        string   `json:"new"`
	Proof      []string `json:"proof"`
}

type job struct {
	Checks []check `json:"checks"`
}

type result struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Expect   string `json:"expect"`
	Verified bool   `json:"verified"`
	Error    string `json:"error,omitempty"`
	Origin   string `json:"origin,omitempty"`
	Size     int64  `json:"size,omitempty"`
	Cosigned int    `json:"cosigned,omitempty"`
}

// tree is a checkpoint that verified.
type tree struct {
	origin string
	size   int64
	root   tlog.Hash
}

// cosigVerifier is a note.Verifier for C2SP cosignature/v1: the signature is an 8-byte big-endian
// timestamp followed by an Ed25519 signature over "cosignature/v1\ntime <timestamp>\n" ‖ note text.
type cosigVerifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (v *cosigVerifier) Name() string    { return v.name }
func (v *cosigVerifier) KeyHash() uint32 { return v.hash }
func (v *cosigVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	ts := binary.BigEndian.Uint64(sig[:8])
	signed := append([]byte("cosignature/v1\ntime "+strconv.FormatUint(ts, 10)+"\n"), msg...)
	return ed25519.Verify(v.key, signed, sig[8:])
}

// keyHash is the C2SP key id: SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4], big-endian.
func keyHash(name string, typ byte, pub []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', typ})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// newCosigVerifier parses a cosigner vkey name+hash+base64(0x04 ‖ 32-byte public key).
func newCosigVerifier(vkey string) (*cosigVerifier, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 || parts[0] == "" || len(parts[1]) != 8 {
		return nil, fmt.Errorf("malformed cosigner key %q", vkey)
	}
	hash, err := strconv.ParseUint(parts[1], 16, 32)
	if err != nil {
		return nil, fmt.Errorf("cosigner key hash %q: %v", parts[1], err)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != cosignatureType {
		return nil, fmt.Errorf("cosigner key %q is not 0x04 ‖ 32 bytes", parts[0])
	}
	if keyHash(parts[0], cosignatureType, raw[1:]) != uint32(hash) {
		return nil, fmt.Errorf("cosigner key %q: hash does not match the key", parts[0])
	}
	return &cosigVerifier{name: parts[0], hash: uint32(hash), key: ed25519.PublicKey(raw[1:])}, nil
}

// parseCheckpoint reads a C2SP checkpoint body: origin, decimal size, base64 root, then extension lines.
func parseCheckpoint(text string) (tree, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 || !strings.HasSuffix(text, "\n") || lines[0] == "" {
		return tree{}, errors.New("note text is not a checkpoint")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return tree{}, fmt.Errorf("checkpoint size %q is not a decimal count", lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return tree{}, fmt.Errorf("checkpoint root %q is not a base64 SHA-256 hash", lines[2])
	}
	var root tlog.Hash
	copy(root[:], raw)
	return tree{origin: lines[0], size: size, root: root}, nil
}

func openCheckpoint(c check, r *result) (tree, error) {
	logKey, err := note.NewVerifier(c.Key)
	if err != nil {
		return tree{}, fmt.Errorf("log key: %v", err)
	}
	verifiers := []note.Verifier{logKey}
	for _, k := range c.Cosigners {
		v, err := newCosigVerifier(k)
		if err != nil {
			return tree{}, err
		}
		verifiers = append(verifiers, v)
	}
	n, err := note.Open([]byte(c.Note), note.VerifierList(verifiers...))
	if err != nil {
		return tree{}, fmt.Errorf("note.Open: %v", err)
	}
	signed := func(v note.Verifier) bool {
		for _, s := range n.Sigs {
			if s.Name == v.Name() && s.Hash == v.KeyHash() {
				return true
			}
		}
		return false
	}
	if !signed(logKey) {
		return tree{}, fmt.Errorf("no signature by the log key %s", logKey.Name())
	}
	for _, v := range verifiers[1:] {
		if !signed(v) {
			return tree{}, fmt.Errorf("no cosignature by %s+%08x", v.Name(), v.KeyHash())
		}
		r.Cosigned++
	}
	t, err := parseCheckpoint(n.Text)
	if err != nil {
		return tree{}, err
	}
	if c.Origin != "" && t.origin != c.Origin {
		return tree{}, fmt.Errorf("origin %q, want %q", t.origin, c.Origin)
	}
	r.Origin, r.Size = t.origin, t.size
	return t, nil
}

// agentCheckpointNote reads an agent-checkpoint entry: 0x02 ‖ u16 len ‖ agent id ‖ u32 len ‖ note.
func agentCheckpointNote(entry []byte) (string, error) {
	if len(entry) < 3 || entry[0] != 0x02 {
		return "", errors.New("entry is not an agent checkpoint (0x02)")
	}
	n := int(binary.BigEndian.Uint16(entry[1:3]))
	rest := entry[3:]
	if n == 0 || len(rest) < n+4 {
		return "", errors.New("agent checkpoint entry is truncated")
	}
	rest = rest[n:]
	m := int(binary.BigEndian.Uint32(rest[:4]))
	if m == 0 || len(rest) != 4+m {
		return "", errors.New("agent checkpoint entry's note length does not match its bytes")
	}
	return string(rest[4:]), nil
}

func hashes(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(raw) != tlog.HashSize {
			return nil, fmt.Errorf("proof hash %d is not a base64 SHA-256 hash", i)
		}
		copy(out[i][:], raw)
	}
	return out, nil
}

// checkInclusion checks that the entry c.Entry is leaf c.Index of the verified checkpoint c.Checkpoint
// (size and root from the note, never from the proof) and returns the entry's bytes.
func checkInclusion(c check, trees map[string]tree, r *result) ([]byte, error) {
	t, ok := trees[c.Checkpoint]
	if !ok {
		return nil, fmt.Errorf("checkpoint %q did not verify", c.Checkpoint)
	}
	entry, err := base64.StdEncoding.DecodeString(c.Entry)
	if err != nil {
		return nil, errors.New("entry is not base64")
	}
	p, err := hashes(c.Proof)
	if err != nil {
		return nil, err
	}
	r.Size = t.size
	return entry, tlog.CheckRecord(tlog.RecordProof(p), t.size, t.root, c.Index, tlog.RecordHash(entry))
}

func run(c check, trees map[string]tree, r *result) error {
	switch c.Kind {
	case "checkpoint":
		t, err := openCheckpoint(c, r)
		if err != nil {
			return err
		}
		trees[c.Name] = t
		return nil
	case "inclusion":
		_, err := checkInclusion(c, trees, r)
		return err
	case "agent-checkpoint-entry":
		// A 0x02 leaf of the global log: included in the checkpoint, and the agent checkpoint it
		// carries opens under the agent's key with the agent log's origin.
		entry, err := checkInclusion(c, trees, r)
		if err != nil {
			return err
		}
		text, err := agentCheckpointNote(entry)
		if err != nil {
			return err
		}
		inner := c
		inner.Note, inner.Cosigners = text, nil
		_, err = openCheckpoint(inner, r)
		return err
	case "consistency":
		old, ok1 := trees[c.Old]
		cur, ok2 := trees[c.New]
		if !ok1 || !ok2 {
			return fmt.Errorf("checkpoints %q and %q must both verify", c.Old, c.New)
		}
		p, err := hashes(c.Proof)
		if err != nil {
			return err
		}
		r.Size = cur.size
		return tlog.CheckTree(tlog.TreeProof(p), cur.size, cur.root, old.size, old.root)
	}
	return fmt.Errorf("unknown kind %q", c.Kind)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: xmodcheck JOB.json")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var j job
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil || len(j.Checks) == 0 {
		fmt.Fprintf(os.Stderr, "malformed job: %v\n", err)
		os.Exit(2)
	}
	trees := map[string]tree{}
	names := map[string]bool{}
	out := struct {
		OK      bool     `json:"ok"`
		Passed  int      `json:"passed"`
		Failed  int      `json:"failed"`
		Results []result `json:"results"`
	}{OK: true, Results: []result{}}
	for _, c := range j.Checks {
		if c.Expect != "valid" && c.Expect != "invalid" {
			fmt.Fprintf(os.Stderr, "check %q: expect must be valid or invalid\n", c.Name)
			os.Exit(2)
		}
		if c.Name == "" || names[c.Name] {
			fmt.Fprintf(os.Stderr, "check names must be unique and non-empty: %q\n", c.Name)
			os.Exit(2)
		}
		names[c.Name] = true
		r := result{Name: c.Name, Kind: c.Kind, Expect: c.Expect}
		if err := run(c, trees, &r); err != nil {
			r.Error = err.Error()
		} else {
			r.Verified = true
		}
		if r.Verified == (c.Expect == "valid") {
			out.Passed++
		} else {
			out.Failed++
			out.OK = false
		}
		out.Results = append(out.Results, r)
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
	if !out.OK {
		os.Exit(1)
	}
}
