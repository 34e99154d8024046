//! `kpp serve`: the broker on a log directory, served on TCP until SIGINT or SIGTERM.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use klog::broker::{parse_properties, BrokerConfig, ConfigWarning};
use klog::server::{random_seed, Server};
use tracing::{error, info, warn};
use tracing_subscriber::EnvFilter;

/// What `kpp serve` was asked.
#[derive(Debug, Default, PartialEq, Eq)]
struct ServeArgs {
    data_dir: Option<String>,
    listen: Option<String>,
    config: Option<PathBuf>,
    overrides: Vec<(String, String)>,
    /// `--metrics HOST:PORT`: where the Prometheus endpoint listens.
    metrics: Option<String>,
}

/// Bad usage of `kpp serve`.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
enum UsageError {
    /// An option without its value.
    #[error("{0} needs a value")]
    MissingValue(String),
    /// Not an option of `kpp serve`.
    #[error("unknown option {0}")]
    UnknownOption(String),
    /// `--override` without `=`.
    #[error("--override {0}: expected KEY=VALUE")]
    BadOverride(String),
    /// `--listen` that is not `HOST:PORT`.
    #[error("--listen {0}: expected HOST:PORT (e.g. 127.0.0.1:9092, [::1]:9092, :9092)")]
    BadListen(String),
    /// `--metrics` that is not `HOST:PORT`.
    #[error("--metrics {0}: expected HOST:PORT (e.g. 127.0.0.1:9404, [::1]:9404, 0.0.0.0:9404)")]
    BadMetrics(String),
}

/// Why `kpp serve` could not build its configuration.
#[derive(Debug, thiserror::Error)]
enum ConfigFileError {
    /// The properties file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The properties file is not Java's properties format.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Where and what.
        source: klog::broker::PropertiesError,
    },
    /// A value Kafka refuses (the error names the key).
    #[error(transparent)]
    Invalid(#[from] klog::broker::config::BrokerConfigError),
}

fn parse_args(args: &[String]) -> Result<ServeArgs, UsageError> {
    let mut out = ServeArgs::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
            _ => (a.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| UsageError::MissingValue(name.to_owned()))
        };
        match name {
            "--data-dir" => out.data_dir = Some(value()?),
            "--listen" => {
                let v = value()?;
                if !host_port(&v, true) {
                    return Err(UsageError::BadListen(v));
                }
                out.listen = Some(v);
            }
            "--metrics" => {
                let v = value()?;
                if !host_port(&v, false) {
                    return Err(UsageError::BadMetrics(v));
                }
                out.metrics = Some(v);
            }
            "--config" => out.config = Some(PathBuf::from(value()?)),
            "--override" => {
                let v = value()?;
                match v.split_once('=') {
                    Some((k, val)) if !k.trim().is_empty() => {
                        out.overrides.push((k.trim().to_owned(), val.to_owned()))
                    }
                    _ => return Err(UsageError::BadOverride(v)),
                }
            }
            other => return Err(UsageError::UnknownOption(other.to_owned())),
        }
    }
    Ok(out)
}

/// `HOST:PORT` with a numeric port (`empty_host`: `:PORT` too, as Kafka's listeners allow).
fn host_port(v: &str, empty_host: bool) -> bool {
    v.rsplit_once(':').is_some_and(|(h, p)| {
        (empty_host || !h.is_empty())
            && !p.is_empty()
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok()
    })
}

/// The pairs in Kafka's precedence: the file, then the dedicated options, then `--override`s.
fn config_pairs(args: &ServeArgs) -> Result<Vec<(String, String)>, ConfigFileError> {
    let mut pairs = Vec::new();
    if let Some(path) = &args.config {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read {
            path: shown.clone(),
            source,
        })?;
        pairs = parse_properties(&text).map_err(|source| ConfigFileError::Parse {
            path: shown,
            source,
        })?;
    }
    if let Some(dir) = &args.data_dir {
        pairs.push(("log.dirs".to_owned(), dir.clone()));
    }
    if let Some(listen) = &args.listen {
        pairs.push(("listeners".to_owned(), format!("PLAINTEXT://{listen}")));
    }
    pairs.extend(args.overrides.iter().cloned());
    Ok(pairs)
}

fn build_config(args: &ServeArgs) -> Result<(BrokerConfig, Vec<ConfigWarning>), ConfigFileError> {
    let pairs = config_pairs(args)?;
    Ok(BrokerConfig::from_pairs(pairs)?)
}

fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// `kpp serve ARGS...` (`args` without `serve`).
pub(crate) fn run(args: &[String]) -> ExitCode {
    let args = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("kpp serve: {e}\n{}", super::USAGE);
            return ExitCode::from(2);
        }
    };
    let (config, warnings) = match build_config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kpp serve: {e}");
            return ExitCode::FAILURE;
        }
    };
    init_logging();
    for w in &warnings {
        warn!(key = %warning_key(w), "{w}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("kpp-net")
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            error!(error = %e, "cannot start the tokio runtime");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let mut server = Server::bind(config, random_seed()).await?;
        if let Some(address) = &args.metrics {
            server.bind_metrics(address).await?;
        }
        let report = server.open_report();
        info!(
            cluster_id = %report.cluster_id,
            partitions = report.partitions.len(),
            recovered = report.recovered.len(),
            log_dir = %server.config().log_dir,
            "log directory opened"
        );
        server.run().await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!(error = %e, "kpp serve failed");
            eprintln!("kpp serve: {e}");
            ExitCode::FAILURE
        }
    }
}

fn warning_key(w: &ConfigWarning) -> &str {
    match w {
        ConfigWarning::Unknown { name } | ConfigWarning::NotUsed { name } => name,
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_in_both_spellings_and_overrides_in_order() {
        let a = parse_args(&strings(&[
            "--data-dir",
            "/var/lib/kpp",
            "--listen=127.0.0.1:9092",
            "--override",
            "num.partitions=3",
            "--override=log.segment.bytes=1048576",
            "--override",
            "num.partitions=5",
            "--metrics",
            "127.0.0.1:9404",
        ]))
        .unwrap();
        assert_eq!(a.data_dir.as_deref(), Some("/var/lib/kpp"));
        assert_eq!(a.metrics.as_deref(), Some("127.0.0.1:9404"));
        let b = parse_args(&strings(&["--metrics=[::1]:0"])).unwrap();
        assert_eq!(b.metrics.as_deref(), Some("[::1]:0"));
        let pairs = config_pairs(&a).unwrap();
        assert_eq!(
            pairs,
            [
                ("log.dirs", "/var/lib/kpp"),
                ("listeners", "PLAINTEXT://127.0.0.1:9092"),
                ("num.partitions", "3"),
                ("log.segment.bytes", "1048576"),
                ("num.partitions", "5"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        let (cfg, warnings) = build_config(&a).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(cfg.num_partitions, 5);
        assert_eq!(cfg.log_dir, "/var/lib/kpp");
        assert_eq!(cfg.listeners[0].to_string(), "PLAINTEXT://127.0.0.1:9092");
        assert_eq!(cfg.log.segment_bytes, 1_048_576);
    }

    #[test]
    fn usage_errors_name_what_is_wrong() {
        let e = |v: &[&str]| parse_args(&strings(v)).unwrap_err().to_string();
        assert_eq!(e(&["--data-dir"]), "--data-dir needs a value");
        assert_eq!(e(&["--port", "9092"]), "unknown option --port");
        assert_eq!(
            e(&["--override", "num.partitions"]),
            "--override num.partitions: expected KEY=VALUE"
        );
        assert!(e(&["--listen", "localhost"]).starts_with("--listen localhost: expected HOST:PORT"));
        assert!(e(&["--metrics", ":9404"]).starts_with("--metrics :9404: expected HOST:PORT"));
        assert!(e(&["--metrics", "127.0.0.1:99999"]).starts_with("--metrics 127.0.0.1:99999:"));
        assert_eq!(e(&["--metrics"]), "--metrics needs a value");
    }

    #[test]
    fn a_bad_value_names_its_key_and_an_unknown_key_is_a_warning() {
        let a = parse_args(&strings(&[
            "--data-dir",
            "/tmp/x",
            "--override",
            "num.partitions=zero",
        ]))
        .unwrap();
        let msg = build_config(&a).unwrap_err().to_string();
        assert_eq!(
            msg,
            "Invalid value zero for configuration num.partitions: Expected value to be a 32-bit integer"
        );
        let a = parse_args(&strings(&["--override", "num.partitons=2"])).unwrap();
        let (_, w) = build_config(&a).unwrap();
        assert_eq!(warning_key(&w[0]), "num.partitons");
    }

    #[test]
    fn the_file_comes_first_and_options_win() {
        let dir = std::env::temp_dir().join(format!("kpp-serve-args-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("server.properties");
        std::fs::write(
            &file,
            "# a Kafka server.properties\nlog.dirs=/from/file\nnum.partitions=7\n\
             listeners=PLAINTEXT://:9092\nauto.create.topics.enable=false\n",
        )
        .unwrap();
        let a = parse_args(&strings(&[
            "--config",
            file.to_str().unwrap(),
            "--data-dir",
            "/from/option",
        ]))
        .unwrap();
        let (cfg, _) = build_config(&a).unwrap();
        assert_eq!(cfg.log_dir, "/from/option");
        assert_eq!(cfg.num_partitions, 7);
        assert!(!cfg.auto_create_topics_enable);
        assert_eq!(cfg.listeners[0].host, None);
        std::fs::remove_dir_all(&dir).unwrap();
        let a = parse_args(&strings(&[
            "--config",
            "/nonexistent/kpp/server.properties",
        ]))
        .unwrap();
        assert!(build_config(&a)
            .unwrap_err()
            .to_string()
            .starts_with("/nonexistent/kpp/server.properties: "));
    }
}
