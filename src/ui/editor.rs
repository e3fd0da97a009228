//! `$EDITOR` for a body: write it to a private temporary file, run the editor on it with
//! the terminal handed over, read the result back.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

/// The editor command: `$VISUAL`, else `$EDITOR`, else `vi`.
pub fn editor_command() -> String {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string())
}

fn temp_path(ext: &str) -> PathBuf {
    let id = uuid::Uuid::new_v4().simple().to_string();
    std::env::temp_dir().join(format!("missive-{}-{}.{ext}", std::process::id(), &id[..8]))
}

/// Run the editor on `text`; returns the edited text. The terminal must already be
/// handed over (cooked mode, main screen).
pub fn edit(text: &str, ext: &str) -> Result<String, String> {
    let path = temp_path(ext);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let write = opts.open(&path).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        if !text.is_empty() && !text.ends_with('\n') {
            f.write_all(b"\n")?;
        }
        f.sync_all()
    });
    if let Err(e) = write {
        let _ = std::fs::remove_file(&path);
        return Err(format!("cannot write {}: {e}", path.display()));
    }
    let editor = editor_command();
    // Through the shell, so EDITOR="code --wait" or "emacs -nw" work.
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(&path)
        .status();
    let result = match status {
        Ok(s) if s.success() => std::fs::read(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|b| {
                String::from_utf8(b).map_err(|_| "the edited text is not UTF-8".to_string())
            }),
        Ok(s) => Err(format!(
            "{editor} exited with {s}; the body was left as it was"
        )),
        Err(e) => Err(format!("cannot start {editor}: {e}")),
    };
    let _ = std::fs::remove_file(&path);
    result
}
