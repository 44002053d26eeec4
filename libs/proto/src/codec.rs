//! The codec of every generated client and server: prost's, except that a message that cannot be
//! decoded is the sender's fault (`INVALID_ARGUMENT`), not ours (`INTERNAL`, tonic-prost's choice).
//!
//! A server that cannot decode a request (invalid UTF-8 in a string, a truncated field) answers
//! `INVALID_ARGUMENT`, so metrics do not count a caller's bad bytes as a bug and the caller learns
//! that retrying the same bytes cannot help (issue 16). A client of ours that cannot decode a
//! response sees the same code with the same explanation.

use std::marker::PhantomData;

use prost::Message;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic::{Code, Status};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// Prost's codec with decode failures as `INVALID_ARGUMENT`.
#[derive(Debug, Clone)]
pub struct RapportCodec<T, U> {
    _types: PhantomData<(T, U)>,
}

impl<T, U> Default for RapportCodec<T, U> {
    fn default() -> Self {
        Self {
            _types: PhantomData,
        }
    }
}

impl<T, U> Codec for RapportCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = RapportDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::default().encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        RapportDecoder {
            inner: ProstCodec::<T, U>::default().decoder(),
        }
    }
}

/// Decodes like prost; an undecodable message is `INVALID_ARGUMENT`.
#[derive(Debug, Clone)]
pub struct RapportDecoder<U> {
    inner: ProstDecoder<U>,
}

impl<U: Message + Default> Decoder for RapportDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        self.inner.decode(buf).map_err(|status| {
            Status::new(
                Code::InvalidArgument,
                format!(
                    "the message cannot be decoded as {}: {}",
                    std::any::type_name::<U>()
                        .rsplit("::")
                        .next()
                        .unwrap_or("protobuf"),
                    status.message()
                ),
            )
        })
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.inner.buffer_settings()
    }
}
