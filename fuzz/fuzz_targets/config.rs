//! The configuration loader: files built from the keys of `docs/assent.reference.toml` with
//! arbitrary values (and arbitrary keys and text), read over the defaults and validated. Loading
//! never panics; what loads validates again, everything derived from it (settings, URLs, the
//! database, the delivery settings) is computed without a panic, it survives being written back
//! to TOML and read again, and its debug form never shows a database URL's credentials.
#![no_main]

use arbitrary::Arbitrary;
use assent_server::Config;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use std::time::Duration;

/// Every key of the reference file, as a path of table names and the key.
fn keys() -> &'static [Vec<String>] {
    static KEYS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let reference: toml::Table = include_str!("../../docs/assent.reference.toml")
            .parse()
            .expect("the reference configuration is TOML");
        let mut keys = Vec::new();
        let mut stack = vec![(Vec::new(), reference)];
        while let Some((path, table)) = stack.pop() {
            for (key, value) in table {
                let mut here = path.clone();
                here.push(key);
                match value {
                    toml::Value::Table(inner) => stack.push((here, inner)),
                    _ => keys.push(here),
                }
            }
        }
        keys.sort();
        keys
    })
}

#[derive(Arbitrary, Debug)]
enum Val {
    Bool(bool),
    Int(i64),
    Small(u16),
    Float(f64),
    Str(String),
    Url {
        postgres: bool,
        user: String,
        password: String,
        host: String,
    },
    Address([u8; 4], u16),
    List(Vec<String>),
}

impl Val {
    fn toml(&self) -> toml::Value {
        match self {
            Val::Bool(b) => (*b).into(),
            Val::Int(i) => (*i).into(),
            Val::Small(i) => i64::from(*i).into(),
            Val::Float(f) => (*f).into(),
            Val::Str(s) => s.clone().into(),
            Val::Url {
                postgres,
                user,
                password,
                host,
            } => {
                let scheme = if *postgres { "postgres" } else { "postgresql" };
                format!("{scheme}://{user}:{password}@{host}/assent").into()
            }
            Val::Address(ip, port) => {
                format!("{}.{}.{}.{}:{port}", ip[0], ip[1], ip[2], ip[3]).into()
            }
            Val::List(items) => {
                toml::Value::Array(items.iter().map(|s| s.clone().into()).collect())
            }
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Setting {
    /// A key of the reference file, by index.
    Known(u16, Val),
    /// Any key in any table.
    Unknown(Vec<String>, Val),
}

#[derive(Arbitrary, Debug)]
enum File {
    Settings(Vec<Setting>),
    Raw(String),
}

fn set(table: &mut toml::Table, path: &[String], value: toml::Value) {
    let Some((last, tables)) = path.split_last() else {
        return;
    };
    let mut here = table;
    for name in tables {
        let entry = here
            .entry(name.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        match entry {
            toml::Value::Table(inner) => here = inner,
            _ => return,
        }
    }
    here.insert(last.clone(), value);
}

fuzz_target!(|file: File| {
    let text = match &file {
        File::Raw(text) => text.clone(),
        File::Settings(settings) => {
            let mut table = toml::Table::new();
            for setting in settings {
                match setting {
                    Setting::Known(i, value) => {
                        let keys = keys();
                        set(
                            &mut table,
                            &keys[usize::from(*i) % keys.len()],
                            value.toml(),
                        );
                    }
                    Setting::Unknown(path, value) => set(&mut table, path, value.toml()),
                }
            }
            match toml::to_string(&table) {
                Ok(text) => text,
                Err(_) => return,
            }
        }
    };
    let Ok(config) = Config::from_toml(&text) else {
        return;
    };
    config.validate().expect("a loaded configuration validates");
    let _ = config.public_url();
    let _ = config.settings();
    let _ = config.database();
    let _ = config.policy_sources();
    let _ = config.data_key_path();
    let timeout = Duration::from_secs(config.push.timeout_secs);
    let _ = config.push.apns.settings(timeout);
    let _ = config.push.fcm.settings(timeout);
    let _ = config.push.dispatch();
    let _ = config.email.settings();
    let _ = config.webhooks.settings();

    if let Some((scheme, _)) = config.database.0.split_once("://") {
        assert_eq!(
            format!("{:?}", config.database),
            format!("\"{scheme}://…\"")
        );
    }

    if let Ok(written) = toml::to_string(&config) {
        let again = Config::from_toml(&written).expect("a written configuration loads");
        assert_eq!(again, config);
    }
});
