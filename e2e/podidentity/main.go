// Command podidentity runs the upstream aws/amazon-eks-pod-identity-webhook handler (its real HTTP handler,
// Modifier.Handle) over AdmissionReviews, for the emulator's parity test (emulator/tests/webhook_parity.rs).
//
// stdin:  {"cases": [{"name": "...", "region": "us-east-1", "serviceAccounts": [<v1 ServiceAccount>...],
//
//	"containerCredentials": <the --watch-container-credentials-config file's contents, or absent>,
//	"review": <admission.k8s.io/v1 AdmissionReview>}, ...]}
//
// stdout: {"results": [{"name": "...", "status": <HTTP status>, "body": <the handler's JSON answer>}, ...]}
//
// Each case gets a fresh Modifier configured with upstream main.go's defaults, over upstream's real
// ServiceAccount cache (cache.New, which parses the annotations) fed by an informer on a fake clientset that
// holds exactly the case's ServiceAccounts, as upstream's cache tests do. The container-credentials (EKS Pod
// Identity) identities are upstream's own FileConfig loaded from the case's config file contents, exactly as
// --watch-container-credentials-config loads the file, with main.go's default --container-credentials-* flags.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/aws/amazon-eks-pod-identity-webhook/pkg"
	"github.com/aws/amazon-eks-pod-identity-webhook/pkg/cache"
	"github.com/aws/amazon-eks-pod-identity-webhook/pkg/containercredentials"
	"github.com/aws/amazon-eks-pod-identity-webhook/pkg/handler"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

type input struct {
	Cases []struct {
		Name            string                   `json:"name"`
		Region          string                   `json:"region"`
		ServiceAccounts []*corev1.ServiceAccount `json:"serviceAccounts"`
		// ContainerCredentials is the config file EKS keeps for the webhook: {"identities": [...]}.
		ContainerCredentials json.RawMessage `json:"containerCredentials"`
		Review               json.RawMessage `json:"review"`
	} `json:"cases"`
}

type result struct {
	Name   string          `json:"name"`
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
}

// noContainerCredentials: no pod uses the container-credentials (EKS Pod Identity) method.
type noContainerCredentials struct{}

func (noContainerCredentials) Get(namespace, serviceAccount string) *containercredentials.PatchConfig {
	return nil
}

func main() {
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("reading stdin: %v", err)
	}
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		fail("parsing stdin: %v", err)
	}
	var out struct {
		Results []result `json:"results"`
	}
	for _, c := range in.Cases {
		modifier, stop := newModifier(c.Region, c.ServiceAccounts, containerCredentials(c.ContainerCredentials))
		req := httptest.NewRequest(http.MethodPost, "/mutate", bytes.NewReader(c.Review))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		modifier.Handle(rec, req)
		close(stop)
		body := rec.Body.Bytes()
		if !json.Valid(body) {
			body, _ = json.Marshal(string(body))
		}
		out.Results = append(out.Results, result{Name: c.Name, Status: rec.Code, Body: body})
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail("writing stdout: %v", err)
	}
}

// newModifier builds what upstream main.go builds with its default flags (and --aws-default-region=region).
func newModifier(region string, serviceAccounts []*corev1.ServiceAccount, credentials containercredentials.Config) (*handler.Modifier, chan struct{}) {
	objects := make([]runtime.Object, 0, len(serviceAccounts))
	for _, sa := range serviceAccounts {
		objects = append(objects, sa)
	}
	client := fake.NewSimpleClientset(objects...)
	factory := informers.NewSharedInformerFactory(client, 0)
	saInformer := factory.Core().V1().ServiceAccounts()
	saCache := cache.New(
		"sts.amazonaws.com",
		"eks.amazonaws.com",
		false,
		pkg.DefaultTokenExpiration,
		saInformer,
		nil,
		cache.ComposeRoleArn{},
		client.CoreV1(),
	)
	stop := make(chan struct{})
	factory.Start(stop)
	factory.WaitForCacheSync(stop)
	saCache.Start(stop)
	// The informer's handlers fill the cache asynchronously after the sync.
	deadline := time.Now().Add(10 * time.Second)
	for _, sa := range serviceAccounts {
		for !saCache.Get(cache.Request{Name: sa.Name, Namespace: sa.Namespace}).FoundInCache {
			if time.Now().After(deadline) {
				fail("service account %s/%s never reached the cache", sa.Namespace, sa.Name)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return handler.NewModifier(
		nil,
		handler.WithAnnotationDomain("eks.amazonaws.com"),
		handler.WithMountPath("/var/run/secrets/eks.amazonaws.com/serviceaccount"),
		handler.WithServiceAccountCache(saCache),
		handler.WithContainerCredentialsConfig(credentials),
		handler.WithRegion(region),
		handler.WithSALookupGraceTime(0),
	), stop
}

// containerCredentials is upstream's FileConfig with main.go's defaults, loaded from the file contents (no
// identities when there are none).
func containerCredentials(file json.RawMessage) containercredentials.Config {
	if len(file) == 0 || string(file) == "null" {
		return noContainerCredentials{}
	}
	config := containercredentials.NewFileConfig(
		"pods.eks.amazonaws.com",
		"/var/run/secrets/pods.eks.amazonaws.com/serviceaccount",
		"eks-pod-identity-token",
		"eks-pod-identity-token",
		"http://169.254.170.23/v1/credentials",
	)
	if err := config.Load(file); err != nil {
		fail("loading the container credentials config: %v", err)
	}
	return config
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "podidentity: "+format+"\n", args...)
	os.Exit(2)
}
