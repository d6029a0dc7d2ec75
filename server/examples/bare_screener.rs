//! P8's baseline (`make bench`): a bare axum handler on the same machine, answering the same
//! form post the public screener gets with a small fixed page after parsing the form. No
//! middleware, no database, no rendering: what the screener's figures are compared with.
//!
//! `cargo run --profile server-release -p angel-server --example bare_screener -- 127.0.0.1:PORT`

use axum::{Router, body::Bytes, response::Html, routing::post};

async fn screen(body: Bytes) -> Html<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    Html(format!(
        "<!DOCTYPE html><html lang=\"es-MX\"><title>Revisa</title><p>{} respuestas</p></html>",
        pairs.len()
    ))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3999".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let app = Router::new().route("/revisa", post(screen));
    axum::serve(listener, app).await
}
