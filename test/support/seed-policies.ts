// The seeds' two NetworkPolicy examples, verbatim (no namespace: tests apply them where they need them).
// Seed 001, "Network Policies": only app=frontend reaches app=backend, on 8080.
export const SEED_BACKEND_POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: backend-policy
spec:
  podSelector:
    matchLabels:
      app: backend           # Apply to backend pods
  
  policyTypes:
  - Ingress
  
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: frontend      # Only allow from frontend
    ports:
    - port: 8080
`;

// Seed 004, section 7: only role=frontend reaches role=backend.
export const SEED_ALLOW_FRONTEND_TO_BACKEND = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-frontend-to-backend
spec:
  podSelector:
    matchLabels:
      role: backend
  ingress:
  - from:
    - podSelector:
        matchLabels:
          role: frontend
`;
