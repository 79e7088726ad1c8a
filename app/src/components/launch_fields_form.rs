//! The launch form's Seqera fields for the head job: pipeline parameters, configuration
//! profiles, extra Nextflow configuration, the work directory and the scripts run before and
//! after Nextflow. Folded away by default: most launches need none of them. None of them is a secret (secrets are chosen by
//! name above them), and the server checks each (`domain/runs/launch_fields.rs`).

use crate::model::LaunchFields;
use leptos::prelude::*;

/// What was typed, kept while the form lives (a refused launch keeps it).
#[derive(Clone, Copy)]
pub struct LaunchFieldsInput {
    params_text: RwSignal<String>,
    config_text: RwSignal<String>,
    work_dir: RwSignal<String>,
    pre_run_script: RwSignal<String>,
    post_run_script: RwSignal<String>,
    profiles: RwSignal<String>,
}

impl Default for LaunchFieldsInput {
    fn default() -> Self {
        LaunchFieldsInput {
            params_text: RwSignal::new(String::new()),
            config_text: RwSignal::new(String::new()),
            work_dir: RwSignal::new(String::new()),
            pre_run_script: RwSignal::new(String::new()),
            post_run_script: RwSignal::new(String::new()),
            profiles: RwSignal::new(String::new()),
        }
    }
}

impl LaunchFieldsInput {
    /// The fields to send; a field left blank (or only spaces) is not sent at all.
    pub fn fields(&self) -> LaunchFields {
        let text = |s: RwSignal<String>| Some(s.get_untracked()).filter(|s| !s.trim().is_empty());
        LaunchFields {
            params_text: text(self.params_text),
            config_text: text(self.config_text),
            pre_run_script: text(self.pre_run_script),
            post_run_script: text(self.post_run_script),
            work_dir: text(self.work_dir).map(|dir| dir.trim().to_string()),
            // Typed as Nextflow takes them, `test,docker`; the server checks each name.
            config_profiles: self
                .profiles
                .get_untracked()
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
        }
    }
}

#[component]
fn TextField(
    id: &'static str,
    label: &'static str,
    hint: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] rows: Option<u32>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let input = match rows {
        Some(rows) => view! {
            <textarea id=id rows=rows spellcheck="false" class="mono" aria-describedby=hint_id.clone()
                data-testid=id
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))></textarea>
        }
        .into_any(),
        None => view! {
            <input id=id autocomplete="off" class="mono" aria-describedby=hint_id.clone() data-testid=id
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))/>
        }
        .into_any(),
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            {input}
            <p class="hint" id=hint_id>{hint}</p>
        </div>
    }
}

#[component]
pub fn LaunchFieldsForm(input: LaunchFieldsInput) -> impl IntoView {
    view! {
        <details class="launch-advanced" data-testid="launch-advanced">
            <summary>"Parameters, profiles, configuration and work directory (optional)"</summary>
            <TextField id="launch-profiles" label="Configuration profiles" value=input.profiles
                hint="Comma-separated, as for nextflow run -profile: test,docker."/>
            <TextField id="launch-params" label="Parameters" rows=5 value=input.params_text
                hint="JSON or YAML, as in a params file: {\"outdir\": \"s3://bucket/results\"}."/>
            <TextField id="launch-config" label="Nextflow configuration" rows=5 value=input.config_text
                hint="Added to the run's nextflow.config, e.g. process.memory = '8 GB'."/>
            <TextField id="launch-work-dir" label="Work directory" value=input.work_dir
                hint="Where Nextflow keeps intermediate files: s3://… on AWS, gs://… on Google. A cluster uses its environment's own."/>
            <TextField id="launch-pre-run" label="Pre-run script" rows=3 value=input.pre_run_script
                hint="Shell commands run before Nextflow starts."/>
            <TextField id="launch-post-run" label="Post-run script" rows=3 value=input.post_run_script
                hint="Shell commands run after Nextflow ends, whatever the outcome."/>
        </details>
    }
}
