/**
 * Pure: the webhook's injection as MutatingAdmissionPolicies (admissionregistration.k8s.io/v1), so
 * that kube-apiserver injects with no webhook in the path.
 */
package dev.pypimirror.operator.admissionpolicy;
