package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// The lab over TLS (TestLab's "over TLS"): the api reached from the laptop through Traefik, the
// lab's ingress controller, by its Ingress host name over HTTPS, with the certificate cert-manager
// issued for that Ingress from the lab's ClusterIssuer (its ingress shim turns the Ingress's
// cert-manager.io/cluster-issuer annotation into a Certificate). Needs the lab applied with
// cert-manager, Traefik and MetalLB running (labAddons).

// tlsCertificate is the part of a cert-manager Certificate this check reads.
type tlsCertificate struct {
	Metadata struct {
		CreationTimestamp time.Time        `json:"creationTimestamp"`
		OwnerReferences   []ownerReference `json:"ownerReferences"`
	} `json:"metadata"`
	Spec struct {
		DNSNames   []string `json:"dnsNames"`
		SecretName string   `json:"secretName"`
		IssuerRef  struct {
			Name string `json:"name"`
			Kind string `json:"kind"`
		} `json:"issuerRef"`
	} `json:"spec"`
	Status struct {
		Revision   int `json:"revision"`
		Conditions []struct {
			Type               string    `json:"type"`
			Status             string    `json:"status"`
			Reason             string    `json:"reason"`
			Message            string    `json:"message"`
			LastTransitionTime time.Time `json:"lastTransitionTime"`
		} `json:"conditions"`
	} `json:"status"`
}

// ownerReference is the part of an owner reference this check reads.
type ownerReference struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// ready is the Certificate's Ready condition ("" when it has none yet) and its message.
func (c tlsCertificate) ready() (status, message string, since time.Time) {
	for _, cond := range c.Status.Conditions {
		if cond.Type == "Ready" {
			return cond.Status, cond.Reason + ": " + cond.Message, cond.LastTransitionTime
		}
	}
	return "", "no Ready condition yet", time.Time{}
}

// traefikNamespace, traefikService: Traefik's LoadBalancer Service (dist/lab/01-traefik.yaml).
const traefikNamespace, traefikService = "traefik", "traefik"

// checkTLS: the api's Ingress gets a Certificate from cert-manager (made by its ingress shim, not
// by us), issued by the lab's ClusterIssuer and Ready; from the laptop, over each family of
// Traefik's LoadBalancer Service, an HTTPS client that trusts only the lab's CA gets the api's
// answer by the Ingress's host name, with a certificate for that name signed by the lab's CA; the
// same client asking for another host name is refused by its own verification.
func (l *labCluster) checkTLS(t *testing.T, s *session, figures *figureLog) {
	s.t = t
	started := time.Now()

	// What the lab asks for (dist/lab/20-api.yaml's Ingress, 05-platform.yaml's ClusterIssuer).
	var ingress struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
		Spec struct {
			Rules []struct {
				Host string `json:"host"`
			} `json:"rules"`
			TLS []struct {
				Hosts      []string `json:"hosts"`
				SecretName string   `json:"secretName"`
			} `json:"tls"`
		} `json:"spec"`
	}
	if err := l.cp.api.getJSON("/apis/networking.k8s.io/v1/namespaces/api/ingresses/api", &ingress); err != nil {
		t.Fatal(err)
	}
	if len(ingress.Spec.Rules) != 1 || len(ingress.Spec.TLS) != 1 || ingress.Spec.TLS[0].SecretName == "" {
		t.Fatalf("api's Ingress: want one rule and one tls entry with a secretName, got rules %v, tls %v", ingress.Spec.Rules, ingress.Spec.TLS)
	}
	host, secretName := ingress.Spec.Rules[0].Host, ingress.Spec.TLS[0].SecretName
	issuerName := ingress.Metadata.Annotations["cert-manager.io/cluster-issuer"]
	if issuerName == "" {
		t.Fatalf("api's Ingress has no cert-manager.io/cluster-issuer annotation (annotations: %v)", ingress.Metadata.Annotations)
	}
	var issuer struct {
		Spec struct {
			CA *struct {
				SecretName string `json:"secretName"`
			} `json:"ca"`
		} `json:"spec"`
	}
	if err := l.cp.api.getJSON("/apis/cert-manager.io/v1/clusterissuers/"+issuerName, &issuer); err != nil {
		t.Fatalf("api's Ingress names the ClusterIssuer %q: %v", issuerName, err)
	}
	if issuer.Spec.CA == nil || issuer.Spec.CA.SecretName == "" {
		t.Fatalf("ClusterIssuer %s is not a CA issuer with a secretName (spec.ca)", issuerName)
	}
	t.Logf("api's Ingress: host %s, tls Secret %s, ClusterIssuer %s (CA Secret %s)", host, secretName, issuerName, issuer.Spec.CA.SecretName)

	// The Certificate: cert-manager's ingress shim names it after the Ingress's tls secretName
	// and owns it by the Ingress; Ready once the Secret holds a certificate it issued.
	var cert tlsCertificate
	var last string
	path := "/apis/cert-manager.io/v1/namespaces/api/certificates/" + secretName
	err := waitFor(3*time.Minute, func() (bool, error) {
		status, body, err := l.cp.api.get(path)
		if err != nil {
			return false, err
		}
		if status != 200 {
			last = fmt.Sprintf("GET %s: %d", path, status)
			return false, nil
		}
		cert = tlsCertificate{}
		if err := json.Unmarshal(body, &cert); err != nil {
			return false, err
		}
		ready, message, _ := cert.ready()
		last = "Ready=" + ready + " (" + message + ")"
		return ready == "True", nil
	})
	if err != nil {
		t.Fatalf("Certificate api/%s not Ready: %v; last: %s%s", secretName, err, last, l.certManagerState())
	}
	_, _, readySince := cert.ready()
	figures.add("over TLS: api's Certificate created -> Ready (cert-manager's timestamps)", readySince.Sub(cert.Metadata.CreationTimestamp))
	if !slices.Contains(cert.Metadata.OwnerReferences, ownerReference{Kind: "Ingress", Name: "api"}) {
		t.Errorf("Certificate api/%s is not owned by the Ingress api (owners %v): not made by cert-manager's ingress shim", secretName, cert.Metadata.OwnerReferences)
	}
	if cert.Spec.IssuerRef.Kind != "ClusterIssuer" || cert.Spec.IssuerRef.Name != issuerName {
		t.Errorf("Certificate api/%s's issuerRef is %s %s, want ClusterIssuer %s", secretName, cert.Spec.IssuerRef.Kind, cert.Spec.IssuerRef.Name, issuerName)
	}
	if !slices.Contains(cert.Spec.DNSNames, host) {
		t.Errorf("Certificate api/%s's dnsNames %v lack the Ingress's host %s", secretName, cert.Spec.DNSNames, host)
	}
	if cert.Status.Revision < 1 {
		t.Errorf("Certificate api/%s is Ready but has no issuance revision (%d): not issued by cert-manager", secretName, cert.Status.Revision)
	}

	// The lab's CA, the only root the laptop trusts. The ClusterIssuer's Secret lives in the
	// controller's cluster resource namespace (cert-manager's --cluster-resource-namespace).
	ca, err := l.labCACertificate("cert-manager", issuer.Spec.CA.SecretName)
	if err != nil {
		t.Fatal(err)
	}
	if !ca.IsCA {
		t.Fatalf("the lab CA's certificate (Secret cert-manager/%s) is not a CA certificate", issuer.Spec.CA.SecretName)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	t.Logf("the lab CA: %q, valid until %s", ca.Subject.String(), ca.NotAfter.UTC().Format(time.RFC3339))

	// Traefik's addresses from MetalLB, one per family its Service asks for.
	var svc struct {
		Spec struct {
			IPFamilies []string `json:"ipFamilies"`
		} `json:"spec"`
	}
	if err := l.cp.api.getJSON("/api/v1/namespaces/"+traefikNamespace+"/services/"+traefikService, &svc); err != nil {
		t.Fatal(err)
	}
	byFamily := map[string]string{}
	var addresses []string
	err = waitFor(90*time.Second, func() (bool, error) {
		var err error
		if addresses, err = l.loadBalancerAddresses(traefikNamespace, traefikService); err != nil {
			return false, err
		}
		byFamily = map[string]string{}
		for _, a := range addresses {
			byFamily[family(a)] = a
		}
		return len(byFamily) == len(svc.Spec.IPFamilies), nil
	})
	if err != nil {
		t.Fatalf("Traefik's Service asks for %v; MetalLB gave it %v: %v", svc.Spec.IPFamilies, addresses, err)
	}

	// The api's answer: http-echo's text from its ConfigMap (dist/lab/20-api.yaml).
	var config struct {
		Data map[string]string `json:"data"`
	}
	if err := l.cp.api.getJSON("/api/v1/namespaces/api/configmaps/api", &config); err != nil {
		t.Fatal(err)
	}
	want := config.Data["ECHO_TEXT"]
	if want == "" {
		t.Fatal("api's ConfigMap has no ECHO_TEXT: what would the api answer?")
	}

	wrongHost := "not-" + host
	for _, f := range ipFamilies {
		address, ok := byFamily[f]
		if !ok {
			t.Logf("IPv%s: Traefik's Service has no address of this family (ipFamilies %v)", f, svc.Spec.IPFamilies)
			continue
		}
		dial := net.JoinHostPort(address, "443")
		// Traefik serves its own default certificate until it has read the Secret: bounded wait
		// for the first answer verified against the lab's CA.
		var answer httpsAnswer
		var lastErr error
		err := waitFor(90*time.Second, func() (bool, error) {
			answer, lastErr = laptopHTTPS(dial, host, roots, 5*time.Second)
			return lastErr == nil && answer.status == 200, nil
		})
		if err != nil {
			t.Errorf("IPv%s: https://%s/ via %s from the laptop: %v; last: status %d, error %v", f, host, dial, err, answer.status, lastErr)
			continue
		}
		figures.add(fmt.Sprintf("over TLS: first verified HTTPS answer over IPv%s (from subtest start)", f), time.Since(started))
		if strings.TrimSpace(answer.body) != want {
			t.Errorf("IPv%s: https://%s/ answered %q, want the api's %q", f, host, answer.body, want)
		}
		if len(answer.chain) == 0 {
			t.Errorf("IPv%s: no server certificate in the answer", f)
			continue
		}
		leaf := answer.chain[0]
		if leaf.CheckSignatureFrom(ca) != nil || leaf.Issuer.String() != ca.Subject.String() {
			t.Errorf("IPv%s: the served certificate's issuer is %q, not the lab CA %q", f, leaf.Issuer.String(), ca.Subject.String())
		}
		if !slices.Contains(leaf.DNSNames, host) {
			t.Errorf("IPv%s: the served certificate's DNS names %v lack %s", f, leaf.DNSNames, host)
		}
		// The served certificate, checked for another name: the name check alone refuses it.
		_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: wrongHost})
		var hostErr x509.HostnameError
		if !errors.As(err, &hostErr) {
			t.Errorf("IPv%s: the served certificate verified for %s: want an x509.HostnameError, got %v", f, wrongHost, err)
		}

		// The same request trusting nothing: what made it pass was the lab's CA.
		_, err = laptopHTTPS(dial, host, x509.NewCertPool(), 5*time.Second)
		var unknown x509.UnknownAuthorityError
		if !errors.As(err, &unknown) {
			t.Errorf("IPv%s: https://%s/ via %s trusting no CA: want an x509.UnknownAuthorityError, got %v", f, host, dial, err)
		}

		// Asking for another host name: Traefik has no certificate for it and serves its own
		// default one; the client's verification refuses it for the name, which Go checks first
		// (crypto/x509's Certificate.Verify), and the lab's CA did not sign it either.
		_, wrongErr := laptopHTTPS(dial, wrongHost, roots, 5*time.Second)
		var verifyErr *tls.CertificateVerificationError
		if !errors.As(wrongErr, &verifyErr) || !errors.As(wrongErr, &hostErr) || hostErr.Host != wrongHost {
			t.Errorf("IPv%s: https://%s/ via %s: want a certificate verification error (x509.HostnameError for %s), got %v", f, wrongHost, dial, wrongHost, wrongErr)
			continue
		}
		if hostErr.Certificate != nil && hostErr.Certificate.CheckSignatureFrom(ca) == nil {
			t.Errorf("IPv%s: for %s Traefik served a certificate the lab's CA signed (%v): want its default one", f, wrongHost, hostErr.Certificate.DNSNames)
		}
		t.Logf("IPv%s via %s: %s answered %q with a certificate for %v from %q; %s refused: %v", f, dial, host,
			strings.TrimSpace(answer.body), leaf.DNSNames, leaf.Issuer.String(), wrongHost, wrongErr)
	}
}

// certManagerState is cert-manager's pods and the api namespace's certificate objects, for
// messages.
func (l *labCluster) certManagerState() string {
	var lines []string
	for _, ns := range []string{"cert-manager", "traefik"} {
		pods, _ := l.lanPods(ns, "")
		for _, p := range pods {
			lines = append(lines, fmt.Sprintf("pod %s/%s on %s: %s healthy=%v", ns, p.Metadata.Name, p.Spec.NodeName, p.Status.Phase, p.healthy()))
		}
	}
	for _, kind := range []string{"certificates", "certificaterequests"} {
		var list struct {
			Items []struct {
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
				Status struct {
					Conditions []struct {
						Type, Status, Reason, Message string
					} `json:"conditions"`
				} `json:"status"`
			} `json:"items"`
		}
		if err := l.cp.api.getJSON("/apis/cert-manager.io/v1/namespaces/api/"+kind, &list); err != nil {
			lines = append(lines, kind+": "+err.Error())
			continue
		}
		for _, item := range list.Items {
			lines = append(lines, fmt.Sprintf("%s api/%s: %v", kind, item.Metadata.Name, item.Status.Conditions))
		}
	}
	return "\n  " + strings.Join(lines, "\n  ")
}
