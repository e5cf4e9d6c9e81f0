//! Outgoing mail through `lettre`: an SMTP relay when one is configured, otherwise a local
//! outbox folder of `.eml` files, so the embedded setup can show what would have been sent.

use std::path::PathBuf;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncFileTransport, AsyncTransport, Message, Tokio1Executor};

/// Where messages go.
#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox {
        transport: AsyncFileTransport<Tokio1Executor>,
        dir: PathBuf,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Smtp(_) => f.write_str("Mailer::Smtp"),
            Mailer::Outbox { dir, .. } => write!(f, "Mailer::Outbox({})", dir.display()),
        }
    }
}

impl Mailer {
    /// An SMTP relay from a URL: `smtp://host:587?tls=required` (STARTTLS),
    /// `smtps://user:password@host:465` (TLS), or `smtp://host:25` (plain, e.g. a local relay).
    pub fn smtp(url: &str) -> Result<Mailer, String> {
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("the SMTP URL is not usable: {e}"))?;
        Ok(Mailer::Smtp(builder.build()))
    }

    /// Messages written as `<id>.eml` files into `dir` (created when missing).
    pub fn outbox(dir: PathBuf) -> std::io::Result<Mailer> {
        std::fs::create_dir_all(&dir)?;
        Ok(Mailer::Outbox {
            transport: AsyncFileTransport::new(&dir),
            dir,
        })
    }

    pub async fn send(&self, message: Message) -> Result<(), String> {
        match self {
            Mailer::Smtp(transport) => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| format!("the SMTP server refused or could not be reached: {e}")),
            Mailer::Outbox { transport, dir } => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| format!("could not write to the outbox {}: {e}", dir.display())),
        }
    }
}

/// A report message: plain text and HTML alternatives and the export attached.
pub struct ReportMail<'a> {
    pub from: &'a Mailbox,
    pub to: &'a [Mailbox],
    pub subject: &'a str,
    pub text: String,
    pub html: String,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub attachment: Vec<u8>,
}

impl ReportMail<'_> {
    pub fn build(self) -> Result<Message, String> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(self.subject);
        for recipient in self.to {
            builder = builder.to(recipient.clone());
        }
        let content_type = ContentType::parse(self.content_type)
            .map_err(|e| format!("bad attachment type: {e}"))?;
        let body = MultiPart::mixed()
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::plain(self.text))
                    .singlepart(SinglePart::html(self.html)),
            )
            .singlepart(
                Attachment::new(self.file_name.to_owned()).body(self.attachment, content_type),
            );
        builder
            .multipart(body)
            .map_err(|e| format!("the message could not be built: {e}"))
    }
}
