-- SSH credentials (issue 12): a private key and optional passphrase for an HPC cluster's login
-- node, sealed like every other credential (the whole SSHSecurityKeys document). `public_keys`
-- holds only the public key's fingerprint (`sshKeyFingerprint`).
ALTER TABLE credentials DROP CONSTRAINT credentials_provider_check;
ALTER TABLE credentials ADD CONSTRAINT credentials_provider_check
    CHECK (provider IN ('aws', 'google', 'ssh'));
