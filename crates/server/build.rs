//! Compiles proto/loadlake.proto with protox (no protoc needed) into tonic services, and keeps
//! the encoded descriptor set for server reflection.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/loadlake.proto");
    let fds = protox::compile(["proto/loadlake.proto"], ["proto"])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("loadlake_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    // The JSON API (src/api.rs) answers with the gRPC messages themselves, so its field names
    // are the proto's; requests are read from query strings into the same messages (absent
    // fields take their proto defaults). `ToSchema` describes them in the API's OpenAPI
    // document (src/api_doc.rs), with the proto's comments as descriptions.
    tonic_prost_build::configure()
        .message_attribute(
            ".loadlake",
            "#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)] #[serde(default)]",
        )
        .enum_attribute(
            ".loadlake",
            "#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]",
        )
        .compile_fds(fds)?;
    Ok(())
}
