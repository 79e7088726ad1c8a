-- Seqera's launch fields for the Nextflow head job Strongroom starts (paramsText, configText,
-- preRunScript, postRunScript, workDir), as JSON; NULL when the launch gave none. None of them is
-- a secret (secrets are copied to the compute environment, never written here).
ALTER TABLE runs ADD COLUMN launch_fields TEXT;
