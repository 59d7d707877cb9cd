//! `serve`: a chain of plugins behind an OpenAI-compatible HTTP endpoint,
//! run as Bifrost runs them, for development and testing (not production).
//!
//! Layers: [`config`] reads Bifrost's `config.json`; the host crate's
//! `pipeline` runs the chain; [`provider`] answers (the mock, or
//! `--upstream`); [`routes`] speaks HTTP (axum), [`stream`] server-sent
//! events; this module starts and stops it all.

mod answer;
mod config;
mod provider;
mod routes;
mod stream;

use std::sync::Arc;
use std::time::Duration;

use bifrost_plugin_host::pipeline::{Pipeline, Runtime, Sink};

use crate::args::ServeArgs;
use crate::failure::{Failure, Outcome};

use provider::Provider;
use routes::App;

/// How long open requests (a stream, say) may go on after Ctrl-C/SIGTERM.
const GRACE: Duration = Duration::from_secs(5);

/// How often `--watch` looks at the plugins' files.
const WATCH_EVERY: Duration = Duration::from_millis(500);

/// Loads the config and every plugin (failing before it listens), serves
/// until Ctrl-C or SIGTERM, then calls every plugin's `cleanup`.
pub fn serve(args: &ServeArgs) -> Outcome {
    let loaded = config::load(&args.config).map_err(Failure::new)?;
    for notice in &loaded.notices {
        eprintln!("note: {notice}");
    }
    let timeout = Duration::from_secs_f64(args.upstream_timeout);
    let provider = Provider::new(args.upstream.as_deref(), timeout).map_err(Failure::usage)?;
    let runtime = Runtime::from(args.runtime);
    if !runtime.available() {
        return Err(Failure::usage(format!(
            "this bifrost-plugin was built without the `jit` feature: --runtime {runtime} is not available"
        )));
    }
    let sink = Sink::stderr().with_tracing(args.trace);
    let pipeline = Pipeline::load_on(runtime, loaded.plugins, args.request_shape.into(), sink)
        .map_err(|e| Failure::new(e.to_string()))?;
    for (name, abi, runtime) in pipeline.plugins() {
        eprintln!("plugin `{name}`: {abi} ABI, on {runtime}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(format!("cannot start the async runtime: {e}")))?;
    // The chain runs on the server's threads (see `routes`); a request
    // that must wait for a busy plugin hands its thread's other requests
    // to another thread meanwhile.
    let pipeline = Arc::new(pipeline.waiting_with(|wait| tokio::task::block_in_place(wait)));
    let served = runtime.block_on(run(args, Arc::clone(&pipeline), provider));
    // Streams still open after the grace period end with the runtime.
    runtime.shutdown_timeout(Duration::from_secs(1));
    eprintln!("calling each plugin's cleanup");
    pipeline.cleanup();
    served
}

async fn run(args: &ServeArgs, pipeline: Arc<Pipeline>, provider: Provider) -> Outcome {
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| Failure::new(format!("cannot listen on {}: {e}", args.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|e| Failure::new(format!("cannot read the listening address: {e}")))?;
    if args.watch {
        tokio::spawn(watch(Arc::clone(&pipeline)));
    }
    let app = routes::router(App::new(pipeline, provider));
    // The one line on stdout: scripts and tests read the port from it.
    println!("listening on http://{address}");
    let (stopping, mut stopped) = tokio::sync::watch::channel(false);
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        let _ = stopping.send(true);
    });
    tokio::select! {
        served = async { server.await } => {
            served.map_err(|e| Failure::new(format!("the server failed: {e}")))?;
        }
        _ = async {
            let _ = stopped.wait_for(|stopped| *stopped).await;
            tokio::time::sleep(GRACE).await;
        } => eprintln!("requests still open after {} s: stopping anyway", GRACE.as_secs()),
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    eprintln!("stopping: no new connections; waiting for open requests");
}

/// `--watch`: instantiates a plugin again when its file changes.
async fn watch(pipeline: Arc<Pipeline>) {
    loop {
        tokio::time::sleep(WATCH_EVERY).await;
        let pipeline = Arc::clone(&pipeline);
        let _ = tokio::task::spawn_blocking(move || pipeline.reload_changed()).await;
    }
}
