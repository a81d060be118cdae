package cluster

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// copyOf reads a live object and returns it ready to be created again under another name: the
// server's fields, the selector and the labels a Job's controller adds are removed.
func (b *behaviours) copyOf(t *testing.T, kind, namespace, name, newName string) map[string]any {
	t.Helper()
	var o map[string]any
	if err := b.n.s.kubectlJSON(&o, "get", kind, name, "-n", namespace); err != nil {
		t.Fatal(err)
	}
	meta := asMap(o["metadata"])
	o["metadata"] = map[string]any{"name": newName, "namespace": namespace, "labels": meta["labels"], "annotations": meta["annotations"]}
	delete(o, "status")
	spec := asMap(o["spec"])
	if kind == "job" {
		delete(spec, "selector")
		delete(spec, "manualSelector")
		labels := asMap(asMap(asMap(spec["template"])["metadata"])["labels"])
		for _, l := range []string{"controller-uid", "batch.kubernetes.io/controller-uid", "job-name", "batch.kubernetes.io/job-name"} {
			delete(labels, l)
		}
	}
	return o
}

func (b *behaviours) create(t *testing.T, o map[string]any) {
	t.Helper()
	body, _ := json.Marshal(o)
	if out, err := b.n.s.applyJSON(string(body)); err != nil {
		t.Fatalf("creating %v: %v\n%s", asMap(o["metadata"])["name"], err, out)
	}
}

// jobPodSpec is the pod spec of a Job (or of a CronJob's Job template).
func jobPodSpec(jobSpec map[string]any) map[string]any {
	return asMap(asMap(jobSpec["template"])["spec"])
}

// jobLife is what a watch of a Job saw: how it finished, when, and when it was deleted.
type jobLife struct {
	kind, reason      string // the Complete or Failed condition, and its reason
	failedPods        int
	created, finished time.Time
	gone              time.Time
}

// watchJobs follows Jobs until each has finished and been deleted (by its TTL), or until timeout.
func (b *behaviours) watchJobs(namespace string, names []string, timeout time.Duration) (map[string]*jobLife, error) {
	lives := map[string]*jobLife{}
	for _, name := range names {
		lives[name] = &jobLife{}
	}
	err := waitFor(timeout, func() (bool, error) {
		all := true
		for name, life := range lives {
			if !life.gone.IsZero() {
				continue
			}
			all = false
			var j struct {
				Metadata struct {
					CreationTimestamp time.Time `json:"creationTimestamp"`
				} `json:"metadata"`
				Status struct {
					Failed     int `json:"failed"`
					Conditions []struct {
						Type, Status, Reason string
						LastTransitionTime   time.Time `json:"lastTransitionTime"`
					} `json:"conditions"`
				} `json:"status"`
			}
			out, err := b.n.s.kubectl("get", "job", name, "-n", namespace, "--ignore-not-found", "-o", "json")
			if err != nil {
				continue
			}
			if strings.TrimSpace(out) == "" {
				if life.finished.IsZero() {
					return false, fmt.Errorf("job %s was deleted before it was seen to finish", name)
				}
				life.gone = time.Now()
				continue
			}
			if err := json.Unmarshal([]byte(out), &j); err != nil {
				return false, err
			}
			life.created = j.Metadata.CreationTimestamp
			for _, c := range j.Status.Conditions {
				if (c.Type == "Complete" || c.Type == "Failed") && c.Status == "True" && life.finished.IsZero() {
					life.kind, life.reason, life.finished, life.failedPods = c.Type, c.Reason, c.LastTransitionTime, j.Status.Failed
				}
			}
		}
		return all, nil
	})
	return lives, err
}

// batch: the backup CronJob's Forbid skips a run while one is active; the migration Job's
// backoffLimit and activeDeadlineSeconds stop a failing migration; a finished Job goes after its TTL.
func (b *behaviours) batch(t *testing.T) {
	s := b.n.s
	started := time.Now()

	// The CronJob first: its runs start on the minute, and the Job checks run meanwhile.
	cron := b.copyOf(t, "cronjob", "batch", "db-backup", "db-backup-every-minute")
	cronSpec := asMap(cron["spec"])
	labForbid := cronSpec["concurrencyPolicy"]
	cronSpec["schedule"] = "* * * * *"
	cronSpec["suspend"] = false
	jobTemplateSpec := asMap(asMap(cronSpec["jobTemplate"])["spec"])
	backupContainer := asMap(asSlice(jobPodSpec(jobTemplateSpec)["containers"])[0])
	backupContainer["command"] = []string{"/bin/sh", "-c", "sleep 100"}
	b.create(t, cron)
	defer s.kubectl("delete", "cronjob", "-n", "batch", "db-backup-every-minute", "--cascade=foreground", "--wait=false")

	// A migration that fails (an SQL error), and one that hangs: copies of the lab's migration Job.
	migration := b.copyOf(t, "job", "batch", "db-migrate-0001", "db-migrate-fails")
	labBackoff := asMap(migration["spec"])["backoffLimit"]
	labDeadline := asMap(migration["spec"])["activeDeadlineSeconds"]
	labTTL := asMap(migration["spec"])["ttlSecondsAfterFinished"]
	// The lab's backoffLimit (6, about ten minutes of growing back-off) and deadline (15 minutes) and
	// TTL (a day) are lowered on these copies only, to keep the run short.
	const backoff, deadline, ttl = 2, 20, 10
	failing := asMap(migration["spec"])
	failing["backoffLimit"] = backoff
	failing["ttlSecondsAfterFinished"] = ttl
	asMap(asSlice(jobPodSpec(failing)["containers"])[0])["command"] = []string{"psql", "--no-psqlrc", "--set=ON_ERROR_STOP=1", "-c", "SELECT no_such_function()"}
	b.create(t, migration)

	hanging := b.copyOf(t, "job", "batch", "db-migrate-0001", "db-migrate-hangs")
	hangingSpec := asMap(hanging["spec"])
	hangingSpec["activeDeadlineSeconds"] = deadline
	hangingSpec["ttlSecondsAfterFinished"] = ttl
	asMap(asSlice(jobPodSpec(hangingSpec)["containers"])[0])["command"] = []string{"psql", "--no-psqlrc", "-c", "SELECT pg_sleep(600)"}
	b.create(t, hanging)

	// Both are followed together: the TTL deletes each ttl seconds after it finishes.
	lives, err := b.watchJobs("batch", []string{"db-migrate-fails", "db-migrate-hangs"}, 4*time.Minute)
	if err != nil {
		t.Errorf("the migration copies: %v%s", err, s.diagnose())
	}
	fails, hangs := lives["db-migrate-fails"], lives["db-migrate-hangs"]
	if fails.kind != "Failed" || fails.reason != "BackoffLimitExceeded" || fails.failedPods != backoff+1 {
		t.Errorf("the failing migration: %s %s after %d failed pods, want Failed BackoffLimitExceeded after %d", fails.kind, fails.reason, fails.failedPods, backoff+1)
	}
	hangStopped := hangs.finished.Sub(hangs.created)
	if hangs.kind != "Failed" || hangs.reason != "DeadlineExceeded" {
		t.Errorf("the hanging migration: %s %s, want Failed DeadlineExceeded", hangs.kind, hangs.reason)
	}
	// Condition times are whole seconds.
	if hangStopped < (deadline-1)*time.Second {
		t.Errorf("the hanging migration stopped %s after it was made, before its deadline of %ds", hangStopped, deadline)
	}
	var ttlSeen []string
	for _, name := range []string{"db-migrate-fails", "db-migrate-hangs"} {
		life := lives[name]
		after := life.gone.Sub(life.finished)
		if !life.gone.IsZero() && after < (ttl-1)*time.Second {
			t.Errorf("%s was deleted %s after it finished, before its TTL of %ds", name, after, ttl)
		}
		ttlSeen = append(ttlSeen, fmt.Sprintf("%s %.0fs", name, after.Seconds()))
	}

	// Forbid: a run due while the previous one is still running is not started.
	var skipped time.Duration
	err = waitFor(4*time.Minute, func() (bool, error) {
		out, _ := s.kubectl("get", "events", "-n", "batch", "--field-selector", "involvedObject.name=db-backup-every-minute,reason=JobAlreadyActive", "-o", "name")
		if strings.TrimSpace(out) != "" {
			skipped = time.Since(started)
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		t.Errorf("no run of the CronJob was skipped for the active one (no JobAlreadyActive event): %v", err)
	}
	// Forbid's promise: never two runs at once. Each Job of the CronJob starts after the one
	// before it has finished (a run missed while one was active may start late, once it finishes).
	var runs struct {
		Items []struct {
			Metadata struct {
				Name            string                  `json:"name"`
				OwnerReferences []struct{ Name string } `json:"ownerReferences"`
			} `json:"metadata"`
			Status struct {
				StartTime      *time.Time `json:"startTime"`
				CompletionTime *time.Time `json:"completionTime"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := s.kubectlJSON(&runs, "get", "jobs", "-n", "batch"); err != nil {
		t.Fatal(err)
	}
	var previousEnd *time.Time
	var cronRuns []string
	for _, j := range runs.Items {
		if len(j.Metadata.OwnerReferences) == 0 || j.Metadata.OwnerReferences[0].Name != "db-backup-every-minute" || j.Status.StartTime == nil {
			continue
		}
		cronRuns = append(cronRuns, j.Metadata.Name)
		if previousEnd == nil && len(cronRuns) > 1 || previousEnd != nil && j.Status.StartTime.Before(*previousEnd) {
			t.Errorf("run %s of the Forbid CronJob started while the one before it was active", j.Metadata.Name)
		}
		previousEnd = j.Status.CompletionTime
	}
	if len(cronRuns) == 0 {
		t.Errorf("the every-minute CronJob never ran")
	}

	b.record(t, behaviourResult{
		title:   "Batch",
		concept: "Jobs and CronJobs (https://kubernetes.io/docs/concepts/workloads/controllers/job/)",
		settings: []string{
			fmt.Sprintf("`lib/workloads/batch.ts` `concurrencyPolicy: 'Forbid'` on the backup CronJob (the lab's: %v)", labForbid),
			fmt.Sprintf("`lib/workloads/batch.ts` `backoffLimit` %v, `activeDeadlineSeconds` %v and `ttlSecondsAfterFinished` %v on the migration Job (lowered on the test's copies to %d, %d and %d, to keep the run short)",
				labBackoff, labDeadline, labTTL, backoff, deadline, ttl),
		},
		done: "Copied the backup CronJob to run every minute with a job that takes 100 s; copied the migration Job twice, " +
			"once with SQL that fails (`SELECT no_such_function()`) and once with SQL that hangs (`SELECT pg_sleep(600)`).",
		measured: []string{
			fmt.Sprintf("Forbid: a run skipped while the previous one was active (event JobAlreadyActive) %.0fs after the CronJob was made; runs so far %d, none overlapping", skipped.Seconds(), len(cronRuns)),
			fmt.Sprintf("failing migration: Failed, BackoffLimitExceeded after %d failed pods (backoffLimit %d) in %.0fs", fails.failedPods, backoff, fails.finished.Sub(fails.created).Seconds()),
			fmt.Sprintf("hanging migration: Failed, DeadlineExceeded %.0fs after it was made (activeDeadlineSeconds %d)", hangStopped.Seconds(), deadline),
			fmt.Sprintf("finished Jobs deleted by their TTL (%ds), this long after they finished: %s", ttl, strings.Join(ttlSeen, ", ")),
		},
	})
}

// kubectlOut runs kubectl and fails the test if it fails.
func (b *behaviours) kubectlOut(t *testing.T, args ...string) string {
	t.Helper()
	out, err := b.n.s.kubectl(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}
