"use client";

import { useMutation, useQuery } from "convex/react";
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { api } from "@/convex/_generated/api";
import type { Doc } from "@/convex/_generated/dataModel";
import { SignedIn } from "../SignedIn";

/** Name and avatar are the app's: edited here, stored in Convex only. */
function ProfileForm({ me }: { me: Doc<"users"> }) {
  const updateProfile = useMutation(api.users.updateProfile);
  const [name, setName] = useState(me.name);
  const [avatarUrl, setAvatarUrl] = useState(me.avatarUrl ?? "");
  const [saved, setSaved] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    void updateProfile({ name, avatarUrl: avatarUrl === "" ? undefined : avatarUrl }).then(() =>
      setSaved(true),
    );
  };
  return (
    <form onSubmit={submit}>
      <p>
        @{me.usertag} · {me.email} · {me.plan} plan
      </p>
      <label>
        Name <input value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Avatar URL <input value={avatarUrl} onChange={(e) => setAvatarUrl(e.target.value)} />
      </label>
      {avatarUrl ? <img src={avatarUrl} alt="" width={64} height={64} /> : null}
      <button type="submit" disabled={name.trim() === ""}>
        Save
      </button>
      {saved ? <span>Saved</span> : null}
    </form>
  );
}

function Profile() {
  const me = useQuery(api.users.current);
  if (me === undefined) return <p>Loading…</p>;
  return (
    <main>
      <Link href="/">Back</Link>
      <h1>Your profile</h1>
      <ProfileForm me={me} />
    </main>
  );
}

export default function ProfilePage() {
  return (
    <SignedIn>
      <Profile />
    </SignedIn>
  );
}
