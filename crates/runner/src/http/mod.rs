//! The virtual user's HTTP/1.1 client, by layer: [`client`] (keep-alive connections per host,
//! JMeter's timings, redirects, failures named as JMeter names them), [`h1`] (one connection's
//! exchange in the user's task), [`tls`] (rustls, any certificate accepted), [`cookies`] (the
//! Cookie Manager's store), [`cache`] (the Cache Manager's), [`encode`] (URL and form encoding of
//! values) and [`multipart`] (`multipart/form-data` bodies).

pub(crate) mod auth;
pub(crate) mod cache;
pub(crate) mod client;
pub(crate) mod cookies;
pub(crate) mod encode;
pub(crate) mod h1;
pub(crate) mod multipart;
pub(crate) mod tls;
