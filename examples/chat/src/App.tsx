import { useAuth0 } from "@auth0/auth0-react";
import { useMutation, useQuery } from "convex/react";
import { useState, type FormEvent } from "react";
import { api } from "../convex/_generated/api";
import { useStoreUserEffect } from "./useStoreUserEffect";

function Chat() {
  const messages = useQuery(api.messages.list);
  const send = useMutation(api.messages.send);
  const [body, setBody] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void send({ body }).then(() => setBody(""));
  };
  return (
    <main>
      <ul>
        {messages?.map((m) => (
          <li key={m._id}>
            <b>{m.name ?? "deleted user"}</b>: {m.body}
          </li>
        ))}
      </ul>
      <form onSubmit={submit}>
        <input value={body} onChange={(e) => setBody(e.target.value)} />
        <button type="submit" disabled={body === ""}>
          Send
        </button>
      </form>
    </main>
  );
}

export default function App() {
  const { isLoading, isAuthenticated } = useStoreUserEffect();
  const { loginWithRedirect, logout } = useAuth0();
  if (isLoading) return <p>Loading…</p>;
  if (!isAuthenticated) return <button onClick={() => void loginWithRedirect()}>Log in</button>;
  return (
    <>
      <button onClick={() => void logout({ logoutParams: { returnTo: window.location.origin } })}>
        Log out
      </button>
      <Chat />
    </>
  );
}
